import CBuildInfo

/// What `--version` says about the build itself (both programs).
package enum BuildInfo {
    /// The release version of both programs (ImagedropVersion.current is this).
    package static let version = "0.1.0"
    package static var commit: String { String(cString: imagedrop_build_commit()) }
}
