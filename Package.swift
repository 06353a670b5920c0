// swift-tools-version:6.0
import PackageDescription

// Layout: C shims (CSQLite, CCurl, COpenSSL) → ImagedropSupport (hashing, time, JSON helpers shared with the
// emulator) → ImagedropCore (config, queue, watching, upload, API client, daemon) → the `imagedrop` executable.
// The emulator (ImagesEmulator + imagedrop-emulator) is a separate branch of the graph: the daemon never links it.
let package = Package(
    name: "imagedrop",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "imagedrop", targets: ["imagedrop"]),
        .executable(name: "imagedrop-emulator", targets: ["imagedrop-emulator"]),
        .executable(name: "imagedrop-bench", targets: ["imagedrop-bench"]),
        .executable(name: "imagedrop-soak", targets: ["imagedrop-soak"]),
        .library(name: "ImagedropCore", targets: ["ImagedropCore"]),
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
        .target(
            name: "CCurl",
            path: "Sources/CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .target(name: "CBuildInfo", path: "Sources/CBuildInfo"),
        .target(
            name: "ImagedropSupport",
            dependencies: ["COpenSSL", "CBuildInfo"]
        ),
        .target(
            name: "ImagedropCore",
            dependencies: [
                "CSQLite", "CCurl", "ImagedropSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                // The status endpoint (Sources/ImagedropCore/HTTP) only.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // Recorded through swift-metrics, exposed by swift-prometheus (textfile and GET /metrics).
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "imagedrop",
            dependencies: [
                "ImagedropCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
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
            dependencies: ["CSQLite", "ImagedropSupport"],
            path: "Benchmarks/ProcessHarness"
        ),
        .executableTarget(
            name: "imagedrop-bench",
            dependencies: ["ImagedropCore", "ImagesEmulator", "ImagedropSupport", "ProcessHarness"],
            path: "Benchmarks/imagedrop-bench"
        ),
        .executableTarget(
            name: "imagedrop-soak",
            dependencies: ["ImagedropSupport", "ProcessHarness", "CSQLite"],
            path: "Benchmarks/imagedrop-soak"
        ),
        .testTarget(
            name: "ImagedropCoreTests",
            dependencies: ["ImagedropCore", "ImagesEmulator", "ImagedropSupport"]
        ),
        .testTarget(
            name: "ImagesEmulatorTests",
            dependencies: ["ImagesEmulator", "ImagedropSupport"]
        ),
        .testTarget(
            name: "EndToEndTests",
            // The executables are dependencies so `swift test` builds them: these tests run the real binaries.
            dependencies: ["ImagedropCore", "ImagesEmulator", "ImagedropSupport", "imagedrop", "imagedrop-emulator"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
