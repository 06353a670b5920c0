import Glibc

/// One inotify instance. The fd is non-blocking and close-on-exec; the watcher polls it together with its
/// wake-up pipe. Closed in deinit.
package final class Inotify {
    package struct Event {
        package var watch: Int32
        package var mask: UInt32
        package var cookie: UInt32
        package var name: [UInt8]

        package func has(_ flag: Int32) -> Bool { mask & UInt32(bitPattern: flag) != 0 }
        package func has(_ flag: UInt32) -> Bool { mask & flag != 0 }
    }

    package let fileDescriptor: Int32
    /// Room for a burst's events in one read (a 10,000-file burst is about 500 KB of them). Mapped, not a zeroed
    /// array: a page becomes resident only once the kernel writes events into it, so a daemon that sees a few
    /// files at a time holds a page or two of it, not 256 KiB from its start on (docs/benchmarks.md, ninth round).
    private let buffer: UnsafeMutableRawBufferPointer

    package init() throws {
        let size = 256 * 1024
        guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mapped != MAP_FAILED
        else { throw SystemError(call: "mmap") }
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            let error = SystemError(call: "inotify_init1")
            munmap(mapped, size)
            throw error
        }
        fileDescriptor = fd
        buffer = UnsafeMutableRawBufferPointer(start: mapped, count: size)
    }

    deinit {
        close(fileDescriptor)
        munmap(buffer.baseAddress, buffer.count)
    }

    /// Watches a directory. ENOSPC means the per-user watch limit is reached: the error says which sysctl to raise.
    package func addWatch(_ path: RawPath, mask: UInt32) throws -> Int32 {
        let wd = path.withCString { inotify_add_watch(fileDescriptor, $0, mask) }
        guard wd >= 0 else { throw SystemError(call: "inotify_add_watch") }
        return wd
    }

    package func removeWatch(_ wd: Int32) { inotify_rm_watch(fileDescriptor, wd) }

    /// Reads every event available now (none when the queue is empty).
    package func readEvents() -> [Event] {
        var events: [Event] = []
        while true {
            // nil (EAGAIN): drained. Any other failure (EBADF, EFAULT) cannot be fixed by reading again.
            let fd = fileDescriptor
            let read = try? Syscall.nonBlocking("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            guard let count = read, count > 0 else { return events }
            let raw = UnsafeRawBufferPointer(buffer)
            var offset = 0
            // The event's flexible `name` member is not imported into Swift: parse the header by hand.
            while offset + 16 <= count {
                let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let cookie = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                var name: [UInt8] = []
                if length > 0 {
                    let bytes = raw[(offset + 16)..<min(offset + 16 + length, count)]
                    name = Array(bytes.prefix { $0 != 0 })  // NUL-padded
                }
                events.append(Event(watch: wd, mask: mask, cookie: cookie, name: name))
                offset += 16 + length
            }
        }
    }
}

@available(*, unavailable)
extension Inotify: Sendable {}
