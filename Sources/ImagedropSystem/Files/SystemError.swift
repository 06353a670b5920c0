import Glibc

/// A failed system call: its name and errno, with the C library's text.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32 = Glibc.errno) {
        self.call = call
        self.errno = errno
    }

    public var message: String { String(cString: strerror(errno)) }
    public var description: String { "\(call): \(message) (errno \(errno))" }
}
