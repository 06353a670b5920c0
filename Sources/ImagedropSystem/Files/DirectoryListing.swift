import Glibc

/// Lists a directory's entry names as bytes (FileManager would turn non-UTF-8 names into other paths),
/// sorted so scans are deterministic.
package enum DirectoryListing {
    package struct Entry: Sendable {
        package var name: [UInt8]
        /// d_type: DT_DIR, DT_REG, DT_LNK…, or DT_UNKNOWN on filesystems that do not fill it in.
        package var type: UInt8
    }

    package static func entries(of directory: RawPath) throws -> [Entry] {
        guard let handle = directory.withCString({ opendir($0) }) else { throw SystemError(call: "opendir") }
        defer { closedir(handle) }
        var result: [Entry] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [46] || name == [46, 46] { continue }  // "." and ".."
            result.append(Entry(name: name, type: entry.pointee.d_type))
        }
        return result.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }
}
