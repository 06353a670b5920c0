/// A configuration problem, reported as one line naming the key and what is wrong (exit code 78).
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let key: String?
    public let problem: String

    public init(file: String, key: String?, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    public var description: String {
        if let key { return "config error: \(key): \(problem) (in \(file))" }
        return "config error: \(problem) (in \(file))"
    }
}
