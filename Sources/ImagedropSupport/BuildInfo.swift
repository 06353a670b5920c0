import CBuildInfo

/// What `--version` says about the build itself (both programs).
public enum BuildInfo {
    /// The release version of both programs (ImagedropVersion.current is this).
    public static let version = "0.1.0"
    public static var commit: String { String(cString: imagedrop_build_commit()) }
}
