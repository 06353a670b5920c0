import Logging

/// Level names accepted in `[log] level` (swift-log's levels).
package enum LogLevelName {
    package static func parse(_ name: String) -> Logger.Level? {
        Logger.Level(rawValue: name.lowercased())
    }
}
