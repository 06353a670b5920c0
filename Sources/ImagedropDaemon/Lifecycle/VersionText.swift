import CCurl
import CSQLite
import ImagedropSupport
import ImagedropSystem

/// `imagedrop --version`: the version, the commit it was built from, and the libcurl and SQLite it runs
/// with (the libraries are the system's, so they differ between machines and matter in bug reports).
package enum VersionText {
    package static var full: String {
        """
        imagedrop \(ImagedropVersion.current) (commit \(BuildInfo.commit))
        \(libcurl)
        SQLite \(String(cString: sqlite3_libversion()))
        """
    }

    /// "libcurl/7.88.1 OpenSSL/3.0.17 zlib/1.2.13 …", the TLS library included. ArgumentParser reads the root
    /// command's configuration, this text with it, on every parse — the daemon's too — so it must not cost what
    /// curl_version() does (OpenLDAP's initialization, 0.8 MiB resident; see the C function).
    package static var libcurl: String {
        var buffer = [CChar](repeating: 0, count: 512)
        imagedrop_curl_version_text(&buffer, buffer.count)
        return String(nulTerminated: buffer)
    }
}
