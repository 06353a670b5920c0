import ImagedropSupport

/// The version sent as `User-Agent: imagedrop/VERSION` and shown by `--version` (from the build, CBuildInfo).
package enum ImagedropVersion {
    package static let current = BuildInfo.version
}
