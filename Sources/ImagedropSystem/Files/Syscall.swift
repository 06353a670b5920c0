import Glibc

/// The one place a system call's failure is read from errno and an interrupted call is restarted, in the manner
/// of swift-nio's `NIOPosix/System.swift`: errno is captured right after the call (before any other C call can
/// change it) and EINTR never leaks to a caller as a failure. Callers decide what a failure means for them.
package enum Syscall {
    /// Runs `body` again while it fails with EINTR; any other negative result throws the call's name and errno.
    @inline(__always)
    package static func retryingOnEINTR<Result: BinaryInteger>(
        _ call: @autoclosure () -> String, _ body: () -> Result
    ) throws(SystemError) -> Result {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SystemError(call: call(), errno: code)
        }
    }

    /// For a non-blocking descriptor: nil when the call would block (EAGAIN/EWOULDBLOCK), the result otherwise.
    @inline(__always)
    package static func nonBlocking<Result: BinaryInteger>(
        _ call: @autoclosure () -> String, _ body: () -> Result
    ) throws(SystemError) -> Result? {
        do {
            return try retryingOnEINTR(call(), body)
        } catch  where error.errno == EAGAIN || error.errno == EWOULDBLOCK {
            return nil
        }
    }

    /// Writes every byte, finishing partial writes (they happen past PIPE_BUF and on signals).
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let written = try retryingOnEINTR("write") {
                Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            }
            // write(2) returns 0 for a non-empty buffer only on a broken descriptor: never loop on it.
            guard written > 0 else { throw SystemError(call: "write", errno: EIO) }
            offset += written
        }
    }

    /// Writes every byte of `bytes` (the array forms keep callers free of pointer closures, which lose the
    /// typed error).
    package static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) throws(SystemError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try writeAll(fd, raw) } }.get()
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) { try writeAll(fd, bytes[...]) }

    /// Reads up to `count` bytes at file offset `offset` (pread(2)) into `buffer` from `start`; 0 at the end.
    package static func pread(
        _ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int
    ) throws(SystemError) -> Int {
        try retryingOnEINTR("read") { Glibc.pread(fd, buffer, count, off_t(offset)) }
    }

    package static func pread(
        _ fd: Int32, into buffer: inout [UInt8], start: Int = 0, count: Int, at offset: Int
    ) throws(SystemError) -> Int {
        try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(SystemError) in try pread(fd, into: raw.baseAddress! + start, count: count, at: offset) }
        }.get()
    }

    /// Reads up to `buffer.count` bytes from the descriptor's position; 0 at the end of the file.
    package static func read(_ fd: Int32, into buffer: inout [UInt8]) throws(SystemError) -> Int {
        try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(SystemError) in
                try retryingOnEINTR("read") { Glibc.read(fd, raw.baseAddress, raw.count) }
            }
        }.get()
    }
}
