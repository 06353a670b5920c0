import CCurl
import CSQLite
import ImagedropSupport
import ImagedropSystem

/// `imagedrop --version`: the version, the commit it was built from, and the libcurl and SQLite it runs
/// with (the libraries are the system's, so they differ between machines and matter in bug reports).
package enum VersionText {
    package static var full: String {
        // curl_version(): "libcurl/8.5.0 OpenSSL/3.0.13 zlib/1.3 …", the TLS library included.
        """
        imagedrop \(ImagedropVersion.current) (commit \(BuildInfo.commit))
        \(String(cString: curl_version()))
        SQLite \(String(cString: sqlite3_libversion()))
        """
    }
}
