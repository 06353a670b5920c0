import Glibc

/// A failed system call: its name and errno, with the C library's text.
package struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    package let call: String
    package let errno: Int32

    package init(call: String, errno: Int32 = Glibc.errno) {
        self.call = call
        self.errno = errno
    }

    package var message: String { String(cString: strerror(errno)) }
    package var description: String { "\(call): \(message) (errno \(errno))" }
}
