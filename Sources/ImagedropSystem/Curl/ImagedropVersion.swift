import ImagedropSupport

/// The version sent as `User-Agent: imagedrop/VERSION` and shown by `--version` (from the build, CBuildInfo).
public enum ImagedropVersion {
    public static let current = BuildInfo.version
}
