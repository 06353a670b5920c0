import ImagedropSystem

/// Two watch paths where one lies inside the other (or both name the same folder): every file below the inner
/// one would be seen from two roots — two jobs, two uploads, a move racing a move. Pure over a list of paths,
/// so the same rule serves `watch.paths` within one config and the paths of all sources together.
package enum WatchPathNesting {
    package struct Overlap: Sendable, Equatable, CustomStringConvertible {
        /// As given in the list (already absolute, resolved against the config's folder by the loader).
        package let inner: String
        package let outer: String
        /// Both spell the same folder (through `..`, a trailing slash or a symlink), rather than one inside the other.
        package let same: Bool

        package var description: String {
            if same {
                return
                    "\"\(inner)\" and \"\(outer)\" are the same folder; a file there would be watched twice: list it once"
            }
            return "\"\(inner)\" lies inside \"\(outer)\"; a file there would be watched twice: list only \"\(outer)\" "
                + "(with recursive = true it watches its subfolders), or move \"\(inner)\" out of it"
        }
    }

    /// The first overlapping pair, comparing each path lexically and, when it exists, with symlinks resolved.
    package static func firstOverlap(in paths: [String]) -> Overlap? {
        let forms = paths.map { path -> [RawPath] in
            let lexical = RawPath(path).lexicallyNormalized
            guard let real = lexical.realPath, real != lexical else { return [lexical] }
            return [lexical, real]
        }
        for i in paths.indices {
            for j in paths.indices where j != i {
                for inner in forms[i] {
                    for outer in forms[j] where inner.isInside(outer) {
                        let same = outer.isInside(inner)
                        // A pair of equal folders is reported once, in list order.
                        if same, j > i { continue }
                        return Overlap(inner: paths[i], outer: paths[j], same: same)
                    }
                }
            }
        }
        return nil
    }
}
