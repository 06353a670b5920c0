import Glibc
import Testing

@testable import ImagedropPipeline
@testable import ImagedropSystem

/// The one errno helper: a failure carries the call's name and errno; a full non-blocking pipe is "would
/// block", not an error; every byte is written even past a pipe's atomic size.
@Suite("System calls")
struct SyscallTests {
    @Test("a failing call throws its name and errno")
    func failureCarriesErrno() {
        let error = #expect(throws: SystemError.self) {
            _ = try Syscall.retryingOnEINTR("close") { close(-1) }
        }
        #expect(error == SystemError(call: "close", errno: EBADF))
        #expect(error?.description.hasPrefix("close: Bad file descriptor") == true)
    }

    @Test("on a non-blocking descriptor, nothing to read is nil; bytes written are read back whole")
    func nonBlockingAndWriteAll() throws {
        let pipe = try WakePipe()
        var buffer = [UInt8](repeating: 0, count: 16)
        let nothing = try Syscall.nonBlocking("read") { read(pipe.readEnd, &buffer, buffer.count) }
        #expect(nothing == nil)
        try Syscall.writeAll(pipe.writeEnd, Array("hello".utf8))
        let count = try Syscall.read(pipe.readEnd, into: &buffer)
        #expect(count == 5)
        #expect(Array(buffer[0..<5]) == Array("hello".utf8))
    }
}
