import Glibc
import ProcessHarness

/// The images of a set, by name: what `curl --parallel` is given and what the floor measures, the same files.
enum PNGListing {
    /// The `.png` names in `directory`, sorted.
    static func names(in directory: String) throws -> [String] {
        guard let listing = opendir(directory) else { throw SpawnError(description: "cannot list \(directory)") }
        defer { closedir(listing) }
        var names: [String] = []
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasSuffix(".png") { names.append(name) }
        }
        return names.sorted()
    }
}
