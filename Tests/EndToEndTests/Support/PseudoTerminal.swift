import Foundation
import Glibc

/// A pseudo-terminal for a child's stderr, so the real binary sees `isatty(2) == 1` as on an operator's
/// screen. The slave is put in raw mode (no `\n` → `\r\n`): what the test reads is byte for byte what the
/// program wrote. The master is drained on its own thread, so a chatty child never blocks on a full pty.
final class PseudoTerminal: @unchecked Sendable {
    let master: Int32
    let slave: Int32
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private let drained = DispatchSemaphore(value: 0)

    init(columns: UInt16 = 400) throws {
        // posix_openpt/grantpt/unlockpt/ptsname are not imported by Swift's Glibc (they need _XOPEN_SOURCE):
        // the Linux ioctls they wrap are used directly — TIOCSPTLCK to unlock, TIOCGPTN for the slave's number
        // (_IOW('T', 0x31, int) and _IOR('T', 0x30, unsigned int); function-like macros are not imported either).
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, UInt(0x4004_5431), &unlock) == 0,
            ioctl(master, UInt(0x8004_5430), &number) == 0
        else {
            throw FixtureError("cannot open a pseudo-terminal")
        }
        slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw FixtureError("cannot open the pty slave") }
        var modes = termios()
        tcgetattr(slave, &modes)
        cfmakeraw(&modes)
        tcsetattr(slave, TCSANOW, &modes)
        var size = winsize(ws_row: 50, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(slave, UInt(TIOCSWINSZ), &size)
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(master, &buffer, buffer.count)
                if n > 0 {
                    lock.lock()
                    bytes.append(contentsOf: buffer[0..<n])
                    lock.unlock()
                } else if n < 0, errno == EINTR {
                    continue
                } else {
                    break  // EIO once every slave descriptor is closed: the child is gone
                }
            }
            drained.signal()
        }
        thread.start()
    }

    /// The slave for `Process.standardError`.
    var slaveHandle: FileHandle { FileHandle(fileDescriptor: slave, closeOnDealloc: false) }

    /// After the child exited: closes this process's slave and waits for the reader to see the end.
    func finish(timeout: Double = 10) -> String {
        close(slave)
        _ = drained.wait(timeout: .now() + timeout)
        return text
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }

    deinit { close(master) }
}
