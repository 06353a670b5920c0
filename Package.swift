// swift-tools-version:6.0
import PackageDescription

import class Foundation.ProcessInfo

// Layout: see docs/layout.md (C shims → ImagedropSupport → ImagedropSystem → ImagedropStore →
// ImagedropPipeline → ImagedropDaemon → the executables; the emulator is a branch of its own).
// TOMLKit imports Foundation, and without this a module that imports TOMLKit (or a module that does) sees
// Foundation's members too: `"a".contains("b")` then resolves to Foundation's NSString-backed overload, whose
// link pulls swift-corelibs-foundation and 34 MB of ICU data into the static binary (issue 25). With it, a
// member is visible only where its module is imported.
let noTransitiveMembers: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "imagedrop",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "imagedrop", targets: ["imagedrop"]),
        .executable(name: "imagedrop-emulator", targets: ["imagedrop-emulator"]),
        .executable(name: "imagedrop-bench", targets: ["imagedrop-bench"]),
        .executable(name: "imagedrop-soak", targets: ["imagedrop-soak"]),
        .library(name: "ImagesEmulator", targets: ["ImagesEmulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            path: "Sources/COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // Redis for the fleet's shared budget (docs/fleet.md). No pkgConfig: hiredis.pc's cflags carry
        // -D_FILE_OFFSET_BITS=64, which SwiftPM refuses with a warning on every build (and CI allows none); the
        // header is found as <hiredis/hiredis.h> in /usr/include and the module map links libhiredis.
        .systemLibrary(
            name: "CHiredis",
            path: "Sources/CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "CCurl",
            path: "Sources/CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .target(name: "CBuildInfo", path: "Sources/CBuildInfo"),
        .target(name: "CCrashJournal", path: "Sources/CCrashJournal"),
        .target(name: "CFileSystem", path: "Sources/CFileSystem"),
        .target(
            name: "ImagedropSupport",
            dependencies: ["COpenSSL", "CBuildInfo"]
        ),
        // Every parser of bytes nobody vetted (image headers, API replies, server hints, URL lists, HTTP requests to
        // the status endpoint), with no I/O and no dependency beyond Support: what the fuzz targets build alone.
        .target(
            name: "ImagedropParsing",
            dependencies: ["ImagedropSupport"]
        ),
        // The layers of the daemon, each importing only those before it (docs/layout.md draws them).
        .target(
            name: "ImagedropSystem",
            dependencies: [
                "CSQLite", "CCurl", "CHiredis", "CCrashJournal", "CFileSystem", "ImagedropParsing", "ImagedropSupport",
            ]
        ),
        .target(
            name: "ImagedropStore",
            dependencies: [
                "ImagedropSystem", "ImagedropParsing", "ImagedropSupport", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: noTransitiveMembers
        ),
        .target(
            name: "ImagedropPipeline",
            dependencies: [
                "ImagedropStore", "ImagedropSystem", "ImagedropParsing", "ImagedropSupport", "CCurl", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                // Recorded through swift-metrics, exposed by swift-prometheus (textfile and GET /metrics).
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: noTransitiveMembers
        ),
        .target(
            name: "ImagedropDaemon",
            dependencies: [
                "ImagedropPipeline", "ImagedropStore", "ImagedropSystem", "ImagedropParsing", "ImagedropSupport",
                "CCurl", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                // The status endpoint (Sources/ImagedropDaemon/HTTP) only.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: noTransitiveMembers
        ),
        // What tests, the benchmark and the soak share and the daemon never links: sample images of every format,
        // temporary folders, a throwing writeFile, `eventually(within:)`, a throwaway redis-server. No daemon layer, so
        // the tests of every layer (and the emulator's) can use it.
        .target(
            name: "ImagedropTestSupport",
            dependencies: ["ImagedropSupport"]
        ),
        // The test kit's part that needs the job table (`withTemporaryStore`): for the tests of the Store and above.
        .target(
            name: "ImagedropStoreTestSupport",
            dependencies: ["ImagedropStore", "ImagedropSystem", "ImagedropTestSupport"]
        ),
        .executableTarget(
            name: "imagedrop",
            dependencies: [
                "ImagedropDaemon", "ImagedropPipeline", "ImagedropStore", "ImagedropSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: noTransitiveMembers
        ),
        .target(
            name: "ImagesEmulator",
            dependencies: [
                "ImagedropSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "imagedrop-emulator",
            dependencies: [
                "ImagesEmulator", "ImagedropSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Child processes, the emulator and the daemon as separate processes, files and clocks: shared by the
        // benchmark and the soak, which both drive the release binaries from outside.
        .target(
            name: "ProcessHarness",
            dependencies: ["CSQLite", "ImagedropSupport", "ImagedropTestSupport"],
            path: "Benchmarks/ProcessHarness"
        ),
        .executableTarget(
            name: "imagedrop-bench",
            dependencies: [
                "ImagedropDaemon", "ImagedropPipeline", "ImagedropStore", "ImagedropSystem", "ImagedropParsing",
                "ImagedropSupport", "ImagedropTestSupport", "ProcessHarness",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/imagedrop-bench"
        ),
        .executableTarget(
            name: "imagedrop-soak",
            dependencies: ["ImagedropSupport", "ImagedropTestSupport", "ProcessHarness", "CSQLite"],
            path: "Benchmarks/imagedrop-soak"
        ),
        // One test target per layer, each depending on its layer and those below only: a test that needs a higher
        // layer belongs to that layer's target (the README's Tests section). The emulator is no layer: the client's
        // tests talk to it in-process.
        .testTarget(
            name: "ImagedropParsingTests",
            dependencies: ["ImagedropParsing", "ImagedropSupport", "ImagedropTestSupport"]
        ),
        .testTarget(
            name: "ImagedropSystemTests",
            dependencies: ["ImagedropSystem", "ImagedropParsing", "ImagedropSupport", "ImagedropTestSupport"]
        ),
        .testTarget(
            name: "ImagedropStoreTests",
            dependencies: [
                "ImagedropStore", "ImagedropSystem", "ImagedropParsing", "ImagedropSupport", "ImagedropTestSupport",
                "ImagedropStoreTestSupport",
            ]
        ),
        .testTarget(
            name: "ImagedropPipelineTests",
            dependencies: [
                "ImagedropPipeline", "ImagedropStore", "ImagedropSystem", "ImagedropParsing", "ImagedropSupport",
                "ImagedropTestSupport", "ImagedropStoreTestSupport", "ImagesEmulator", "CCurl",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ImagedropDaemonTests",
            dependencies: [
                "ImagedropDaemon", "ImagedropPipeline", "ImagedropStore", "ImagedropSystem", "ImagedropParsing",
                "ImagedropSupport", "ImagedropTestSupport", "ImagedropStoreTestSupport", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The README and docs/ (links that hold, a front page that stays short): no code of ours.
        .testTarget(name: "DocumentationTests"),
        .testTarget(
            name: "ImagesEmulatorTests",
            dependencies: ["ImagesEmulator", "ImagedropSupport", "ImagedropTestSupport"]
        ),
        .testTarget(
            name: "EndToEndTests",
            // The executables are dependencies so `swift test` builds them: these tests run the real binaries.
            dependencies: [
                "ImagedropDaemon", "ImagedropPipeline", "ImagedropStore", "ImagedropSystem", "ImagedropParsing",
                "ImagesEmulator", "ImagedropSupport", "ImagedropTestSupport", "imagedrop", "imagedrop-emulator",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer driver: one binary, the target named by IMAGEDROP_FUZZ_TARGET. It has no `main` of its own (libFuzzer
// brings it), so it exists only in the fuzz build, with IMAGEDROP_FUZZ=1: scripts/fuzz.sh builds and runs it (the
// flags that give it real coverage are subtle; the script says why).
if ProcessInfo.processInfo.environment["IMAGEDROP_FUZZ"] != nil {
    package.products.append(.executable(name: "imagedrop-fuzz", targets: ["imagedrop-fuzz"]))
    package.targets.append(
        .executableTarget(name: "imagedrop-fuzz", dependencies: ["ImagedropParsing"], path: "Fuzz/Driver"))
}
