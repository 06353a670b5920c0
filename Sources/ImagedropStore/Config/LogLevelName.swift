import Logging

/// Level names accepted in `[log] level` (swift-log's levels).
public enum LogLevelName {
    public static func parse(_ name: String) -> Logger.Level? {
        Logger.Level(rawValue: name.lowercased())
    }
}
