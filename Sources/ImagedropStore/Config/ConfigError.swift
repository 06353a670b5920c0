/// A configuration problem, reported as one line naming the key and what is wrong (exit code 78).
package struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    package let file: String
    package let key: String?
    package let problem: String

    package init(file: String, key: String?, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    package var description: String {
        if let key { return "config error: \(key): \(problem) (in \(file))" }
        return "config error: \(problem) (in \(file))"
    }
}
