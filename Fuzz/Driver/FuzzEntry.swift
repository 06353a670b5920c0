@preconcurrency import Glibc
import ImagedropParsing

/// libFuzzer's entry point. Which parser it drives is named by IMAGEDROP_FUZZ_TARGET (scripts/fuzz.sh sets it):
/// one binary for every target keeps the fuzz build to a single link.
let target: FuzzTarget = {
    let name = getenv("IMAGEDROP_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        fputs("imagedrop-fuzz: IMAGEDROP_FUZZ_TARGET must be one of: \(names) (got \"\(name)\")\n", stderr)
        exit(64)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    target.run(bytes)
    return 0
}
