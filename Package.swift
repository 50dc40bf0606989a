// swift-tools-version:6.0
import PackageDescription

/// Intake: a self-hosted client upload portal served as FastCGI workers behind nginx.
///
/// Layers, each depending only on those above it: C system libraries → safe wrappers
/// (`FastCGI`, `Database`, `Sodium`, `Checksums`, `Curl`, `Metrics` — counters shared by the
/// processes through a mapped file —, and `Spool`, the domain's only way to the operating
/// system's files and processes) and the transport-free `Web` and `Templates` →
/// `Integrations` (OAuth, storage providers, the scanner) → the `Intake` domain (no C module, no
/// Glibc, no libcurl: spool files, process liveness and HTTP come in through `Spool`,
/// `ProcessLiveness` and `HTTPTransport`) → `IntakeWeb` (routes, one file per action, forms,
/// views; no SQL, no wiring) → `IntakeCommand`, the `intake` executable, which wires the graph.
let package = Package(
    name: "Intake",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "intake", targets: ["IntakeCommand"]),
        .library(name: "Templates", targets: ["Templates"]),
        .library(name: "Web", targets: ["Web"]),
        // For the fuzz targets in Fuzz/, a package of their own that reaches these layers' parsers.
        .library(name: "Integrations", targets: ["Integrations"]),
        .library(name: "Intake", targets: ["Intake"]),
        .library(name: "IntakeWeb", targets: ["IntakeWeb"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        // C system libraries: a module map and one shim.h each, found through pkg-config.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),

        // Pure Swift building blocks.
        .target(name: "Templates"),
        .target(name: "Web"),

        // Safe wrappers over the C libraries.
        .target(name: "FastCGI", dependencies: [
            "CFastCGI", "Web",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Database", dependencies: ["CSQLite", "CPostgres"]),
        .target(name: "Sodium", dependencies: ["CSodium"]),
        .target(name: "Checksums", dependencies: ["CLibCrypto", "CZlib"]),
        // QR code symbols (libqrencode) drawn as SVG, for the dashboard's portal links.
        .target(name: "QRCodes", dependencies: ["CQREncode", "Templates"]),
        // ZIP archives written front to back into a stream that cannot seek (a download).
        .target(name: "Zip", dependencies: ["Checksums"]),
        // Linux calls glibc declares only under _GNU_SOURCE.
        .target(name: "CSystem"),
        // The spool's folders and file descriptors, this host's processes and its wall clock: the domain's only way to the OS.
        .target(name: "Spool", dependencies: ["CSystem", "Checksums", "Sodium"]),
        .target(name: "Curl", dependencies: ["CCurl"]),
        .target(name: "Integrations", dependencies: ["Curl", "Sodium", "Checksums", "Spool"]),
        // Counters shared by the processes of `intake serve` (a mapped file, atomic adds) and
        // Prometheus' text format, for /metrics.
        .target(name: "Metrics"),

        // The domain, the web layer and the executable.
        .target(name: "Intake", dependencies: ["Database", "Sodium", "Checksums", "Integrations", "Curl", "Spool",
                                               .product(name: "Logging", package: "swift-log")]),
        .target(name: "IntakeWeb", dependencies: [
            "Intake", "Web", "Templates", "Database", "Sodium", "Integrations", "Curl", "Spool", "QRCodes", "Zip", "Metrics",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "IntakeCommand", dependencies: [
            "Intake", "Spool", "IntakeWeb", "FastCGI", "Database", "Templates", "Sodium", "Curl", "Metrics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Shared by the tests: launchers for nginx and `intake serve`, a raw HTTP client, fake providers, a temporary database.
        .target(name: "TestSupport", dependencies: ["Web", "Database", "Checksums", "Sodium"], path: "Sources/TestSupport"),

        // Unit tests, one target per module they test (IntakeTests covers IntakeWeb too), run by
        // `swift test` alone; EndToEndTests run the built `intake` behind a real nginx and, like
        // the clamd tests, only with INTAKE_INTEGRATION=1.
        .testTarget(name: "TemplatesTests", dependencies: ["Templates", "TestSupport"], resources: [.copy("Resources/spec")]),
        .testTarget(name: "WebTests", dependencies: ["Web", "TestSupport"]),
        // The round-trip test stands in for the accept loop, so it calls libfcgi itself.
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI", "CFastCGI", "Web", "TestSupport"]),
        .testTarget(name: "DatabaseTests", dependencies: ["Database", "TestSupport"]),
        .testTarget(name: "SodiumTests", dependencies: ["Sodium"]),
        .testTarget(name: "ChecksumsTests", dependencies: ["Checksums"]),
        .testTarget(name: "QRCodesTests", dependencies: ["QRCodes"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "TestSupport"]),
        .testTarget(name: "ZipTests", dependencies: ["Zip", "Checksums", "Spool"]),
        .testTarget(name: "CurlTests", dependencies: ["Curl", "TestSupport"]),
        .testTarget(name: "IntegrationsTests", dependencies: ["Integrations", "Curl", "TestSupport", "Checksums", "Sodium", "Spool"]),
        .testTarget(name: "IntakeTests", dependencies: ["Intake", "IntakeWeb", "Web", "Database", "Templates", "Sodium", "Integrations", "Curl", "TestSupport", "Spool", "Metrics"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "Web", "Database", "Checksums", "Sodium"]),
    ],
    swiftLanguageModes: [.v6]
)
