import Glibc

/// A file path as Linux has it: bytes. Names that are not valid UTF-8 survive intact (a String round trip
/// would not give the same path back); `display` is what people and the `path` column see.
package struct RawPath: Hashable, Sendable, Comparable, CustomStringConvertible {
    package var bytes: [UInt8]

    package init(bytes: [UInt8]) { self.bytes = bytes }
    package init(_ string: String) { self.bytes = Array(string.utf8) }

    /// Valid UTF-8 text, each byte that is not part of valid UTF-8 shown as U+FFFD (one per byte, as DESIGN
    /// asks; Swift's own decoding would fold a run of bad bytes into one).
    package var display: String { UTF8Repair.replacingEachInvalidByte(bytes) }
    package var description: String { display }

    package var isValidUTF8: Bool { Array(display.utf8) == bytes }

    package var isAbsolute: Bool { bytes.first == UInt8(ascii: "/") }

    package func appending(_ component: [UInt8]) -> RawPath {
        var result = bytes
        if result.last != UInt8(ascii: "/") { result.append(UInt8(ascii: "/")) }
        result.append(contentsOf: component)
        return RawPath(bytes: result)
    }

    package func appending(_ component: String) -> RawPath { appending(Array(component.utf8)) }

    /// The last path component.
    package var baseName: [UInt8] {
        var trimmed = bytes[...]
        while trimmed.count > 1, trimmed.last == UInt8(ascii: "/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: UInt8(ascii: "/")) else { return Array(trimmed) }
        return Array(trimmed[(slash + 1)...])
    }

    package var parent: RawPath {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return RawPath(".") }
        if slash == 0 { return RawPath("/") }
        return RawPath(bytes: Array(bytes[..<slash]))
    }

    /// The path below `root` (without a leading slash), or nil when this path is not inside `root`.
    package func relative(to root: RawPath) -> RawPath? {
        var prefix = root.bytes
        while prefix.count > 1, prefix.last == UInt8(ascii: "/") { prefix.removeLast() }
        guard bytes.count > prefix.count, bytes.starts(with: prefix) else { return nil }
        if prefix == [UInt8(ascii: "/")] { return RawPath(bytes: Array(bytes.dropFirst())) }
        guard bytes[prefix.count] == UInt8(ascii: "/") else { return nil }
        return RawPath(bytes: Array(bytes[(prefix.count + 1)...]))
    }

    package func isInside(_ root: RawPath) -> Bool {
        relative(to: root) != nil || self.normalized == root.normalized
    }

    private var normalized: [UInt8] {
        var copy = bytes
        while copy.count > 1, copy.last == UInt8(ascii: "/") { copy.removeLast() }
        return copy
    }

    package func withCString<T>(_ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        var zeroTerminated = bytes
        zeroTerminated.append(0)
        return try zeroTerminated.withUnsafeBufferPointer { buffer in
            try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { try body($0) }
        }
    }

    package static func < (lhs: RawPath, rhs: RawPath) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    /// Absolute, with `.` and `..` resolved lexically (symlinks are not resolved: see `realPath`).
    package static func absolute(_ string: String) -> RawPath {
        var path = RawPath(string)
        if !path.isAbsolute {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            if getcwd(&buffer, buffer.count) != nil {
                let cwd = buffer.withUnsafeBufferPointer { ptr in
                    Array(UnsafeRawBufferPointer(start: ptr.baseAddress, count: strlen(ptr.baseAddress!)))
                }
                path = RawPath(bytes: cwd).appending(path.bytes)
            }
        }
        return path.lexicallyNormalized
    }

    package var lexicallyNormalized: RawPath {
        var parts: [ArraySlice<UInt8>] = []
        for part in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.elementsEqual([UInt8(ascii: ".")]) { continue }
            if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        var result: [UInt8] = []
        for part in parts {
            result.append(UInt8(ascii: "/"))
            result.append(contentsOf: part)
        }
        return RawPath(bytes: result.isEmpty ? [UInt8(ascii: "/")] : result)
    }

    /// The canonical path with symlinks resolved, or nil when it cannot be resolved (missing, loop).
    package var realPath: RawPath? {
        withCString { pointer -> RawPath? in
            guard let resolved = Glibc.realpath(pointer, nil) else { return nil }
            defer { free(resolved) }
            return RawPath(bytes: Array(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved))))
        }
    }
}
