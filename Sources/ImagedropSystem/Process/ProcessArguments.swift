import Glibc

/// The process's arguments, even when Swift's runtime could not capture them.
///
/// Swift on Linux takes argv from its own start-up hook; under an `LD_PRELOAD` shim such as libfaketime (an operator
/// testing a host whose clock is off, the fleet's clock-skew test) that hook sees nothing and
/// `CommandLine.arguments` is empty — the daemon would then run as if called bare. The kernel's copy in
/// `/proc/self/cmdline` is always there.
package enum ProcessArguments {
    package static var current: [String] {
        let captured = CommandLine.arguments
        if !captured.isEmpty { return captured }
        return fromProcFilesystem() ?? []
    }

    /// `/proc/self/cmdline`: the arguments, each ended by a NUL.
    static func fromProcFilesystem() -> [String]? {
        let descriptor = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return split(bytes)
    }

    /// NUL-ended fields; a last field without its NUL (a process that rewrote its arguments) is kept.
    static func split(_ bytes: [UInt8]) -> [String] {
        guard !bytes.isEmpty else { return [] }
        var fields = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        if bytes.last == 0 { fields.removeLast() }
        return fields
    }
}
