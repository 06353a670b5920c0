import ImagedropSupport
import ImagedropTestSupport

/// One thing the driver writes at a path, with what the daemon must conclude about it.
struct Content {
    enum Kind: String { case png, jpeg, gif, webp, text, empty, oversize }
    let kind: Kind
    let bytes: [UInt8]
    let sha256: String
    /// An image the API accepts (the daemon must store it); the others must end `failed` and never be sent.
    var valid: Bool { [.png, .jpeg, .gif, .webp].contains(kind) }

    init(kind: Kind, bytes: [UInt8]) {
        self.kind = kind
        self.bytes = bytes
        sha256 = BytePaths.sha256(bytes)
    }

    /// What the model keeps of it: the bytes themselves would hold gigabytes after an hour.
    struct Summary {
        let kind: Kind
        let sha256: String
        var valid: Bool { [.png, .jpeg, .gif, .webp].contains(kind) }
    }

    var summary: Summary { Summary(kind: kind, sha256: sha256) }

    var fileExtension: String {
        switch kind {
        case .png, .empty, .oversize: return ".png"
        case .jpeg, .text: return ".jpg"
        case .gif: return ".gif"
        case .webp: return ".webp"
        }
    }
}

/// Every random choice of the soak comes from one SplitMix64, so a seed replays the same schedule (the
/// timing of the daemon and the machine still varies; the schedule does not).
struct Dice {
    private var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }
    mutating func unit() -> Double { generator.nextUnit() }
    mutating func chance(_ p: Double) -> Bool { unit() < p }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    /// Index by weight.
    mutating func weighted(_ weights: [Double]) -> Int {
        var roll = unit() * weights.reduce(0, +)
        for (index, weight) in weights.enumerated() {
            if roll < weight { return index }
            roll -= weight
        }
        return weights.count - 1
    }
}

/// Makes contents that are distinct from everything made before (unless a duplicate is asked for).
struct ContentFactory {
    private var seen: Set<String> = []

    mutating func image(_ dice: inout Dice) -> Content {
        while true {
            let content = makeImage(&dice)
            if seen.insert(content.sha256).inserted { return content }
        }
    }

    private func makeImage(_ dice: inout Dice) -> Content {
        switch dice.weighted([5, 3, 1, 1]) {
        case 0:
            // Mostly small, sometimes up to ~3 MB.
            let size = dice.chance(0.1) ? dice.int(500_000...3_000_000) : dice.int(300...60_000)
            return Content(kind: .png, bytes: SampleImages.png(approximateBytes: size, seed: dice.next()))
        case 1:
            let padding = dice.chance(0.15) ? dice.int(200_000...2_000_000) : dice.int(100...20_000)
            var bytes = SampleImages.jpegHeaderOnly(
                width: dice.int(1...4000), height: dice.int(1...4000), exifPadding: padding)
            for index in 12..<min(bytes.count - 30, 76) { bytes[index] = UInt8(truncatingIfNeeded: dice.next()) }
            return Content(kind: .jpeg, bytes: bytes)
        case 2:
            return Content(kind: .gif, bytes: SampleImages.gif(width: dice.int(1...300), height: dice.int(1...300)))
        default:
            return Content(
                kind: .webp, bytes: SampleImages.webpHeaderOnly(width: dice.int(1...4000), height: dice.int(1...4000)))
        }
    }

    /// Text named .jpg, an empty file, or more than 10 MiB.
    mutating func bad(_ dice: inout Dice) -> Content {
        switch dice.weighted([5, 2, 1]) {
        case 0:
            let text = "not an image \(dice.next())\n" + String(repeating: "lorem ipsum ", count: dice.int(1...400))
            return remember(Content(kind: .text, bytes: Array(text.utf8)))
        case 1:
            return Content(kind: .empty, bytes: [])
        default:
            var bytes = SampleImages.pngHeaderOnly(width: 100, height: 100)
            let total = 10_485_760 + dice.int(1...200_000)
            var filler = SplitMix64(seed: dice.next())
            bytes.reserveCapacity(total)
            while bytes.count < total { bytes.append(UInt8(truncatingIfNeeded: filler.next())) }
            return remember(Content(kind: .oversize, bytes: bytes))
        }
    }

    private mutating func remember(_ content: Content) -> Content {
        seen.insert(content.sha256)
        return content
    }
}
