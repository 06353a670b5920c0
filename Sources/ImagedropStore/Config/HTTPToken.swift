import FoundationEssentials
import ImagedropSupport
import ImagedropSystem

/// `[http] token_file`'s bearer token. Its description hides the bytes, so a logged config or an error cannot
/// leak it; errors about the file name the file, never its content.
package struct HTTPToken: Sendable, Equatable, CustomStringConvertible {
    package let bytes: [UInt8]
    package init(bytes: [UInt8]) { self.bytes = bytes }
    package var description: String { "<redacted token>" }

    /// Long enough not to be guessed over the network; `openssl rand -hex 32` gives 64.
    static let minimumLength = 16

    /// The file's first line, trailing newline and spaces dropped: visible ASCII only (it travels in a header).
    static func read(_ file: String, section: TOMLSection) throws -> HTTPToken {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw section.error("token_file", "\"\(file)\" cannot be read")
        }
        var bytes = [UInt8](data)
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { bytes.removeLast() }
        guard !bytes.isEmpty else { throw section.error("token_file", "\"\(file)\" is empty") }
        guard bytes.count >= minimumLength, bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw section.error(
                "token_file",
                "\"\(file)\" must hold one token of at least \(minimumLength) visible ASCII "
                    + "characters (no spaces), e.g. from `openssl rand -hex 32`")
        }
        return HTTPToken(bytes: bytes)
    }
}
