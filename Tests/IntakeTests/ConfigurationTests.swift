import Database
import Testing
@testable import Intake

@Suite("Configuration")
struct ConfigurationTests {
    @Test("working defaults, paths resolved against the working directory")
    func defaults() throws {
        let c = try Configuration.load([:], workingDirectory: "/srv/intake")
        #expect(c.home == "/srv/intake/var" && c.databasePath == "/srv/intake/var/intake.db")
        #expect(c.listen == "/srv/intake/var/intake.sock" && c.baseURL == "http://127.0.0.1:8080")
        #expect(c.workers == 2 && c.threads == 8 && c.shutdownGrace == 30 && c.httpPort == 8080)
        #expect(c.secretKeySource == .generatedFile("/srv/intake/var/secret.key"))
        #expect(c.currency.code == "USD" && !c.debugRoutes && !c.isHTTPS)
    }

    @Test("without an explicit base URL the site follows the development port; an explicit one stays")
    func basePort() throws {
        #expect(try Configuration.load(["INTAKE_HTTP_PORT": "8585"], workingDirectory: "/").baseURL == "http://127.0.0.1:8585")
        #expect(try Configuration.load(["INTAKE_HTTP_PORT": "8585", "INTAKE_BASE_URL": "https://files.example"], workingDirectory: "/").baseURL
                == "https://files.example")
    }

    @Test("a wrong value names its variable", arguments: [
        ("INTAKE_WORKERS", "0"), ("INTAKE_THREADS", "many"), ("INTAKE_HTTP_PORT", "70000"), ("INTAKE_BASE_URL", "ftp://x"),
        ("INTAKE_SECRET_KEY", "short"), ("INTAKE_LOG_LEVEL", "loud"), ("INTAKE_SHUTDOWN_GRACE", "-1"),
        ("INTAKE_CURRENCY", "XYZ"), ("INTAKE_DEBUG_ROUTES", "yes"), ("INTAKE_TEMPLATES_RELOAD", "2"),
    ])
    func wrongValue(key: String, value: String) {
        let error = try? #require(throws: ConfigurationError.self) { try Configuration.load([key: value], workingDirectory: "/") }
        #expect(error?.key == key)
        #expect(error?.description.hasPrefix(key) == true)
    }

    @Test("debug routes are refused on an https site; https turns on secure cookies")
    func https() throws {
        #expect(throws: ConfigurationError.self) {
            try Configuration.load(["INTAKE_DEBUG_ROUTES": "1", "INTAKE_BASE_URL": "https://intake.example"], workingDirectory: "/")
        }
        #expect(try Configuration.load(["INTAKE_BASE_URL": "https://intake.example/"], workingDirectory: "/").isHTTPS)
    }

    @Test("the printed configuration never shows the secret key")
    func redaction() throws {
        let key = String(repeating: "ab", count: 32)
        let c = try Configuration.load(["INTAKE_SECRET_KEY": key], workingDirectory: "/")
        #expect(c.secretKeySource == .value(Array(repeating: 0xab, count: 32)))
        let printed = c.describe().map { "\($0.0)=\($0.1)" }.joined(separator: "\n")
        #expect(!printed.contains(key) && printed.contains("INTAKE_SECRET_KEY=(set, redacted)"))
        #expect(Configuration.keys.map(\.name).allSatisfy { name in name == "INTAKE_SECRET_KEY" || printed.contains(name + "=") })
    }

    @Test("a PostgreSQL URL chooses PostgreSQL and is printed without its password; anything but postgres:// is refused by name")
    func databaseURL() throws {
        #expect(try Configuration.load([:], workingDirectory: "/srv").database == .sqlite(path: "/srv/var/intake.db"))
        let url = "postgres://intake:s3cret-pw@db.internal:5432/intake?sslmode=require"
        let c = try Configuration.load(["INTAKE_DATABASE_URL": url], workingDirectory: "/")
        #expect(c.database == .postgresql(url: url))
        let printed = c.describe().map { "\($0.0)=\($0.1)" }.joined(separator: "\n")
        #expect(!printed.contains("s3cret-pw") && printed.contains("INTAKE_DATABASE_URL=postgres://intake:(redacted)@db.internal:5432/intake?sslmode=require"))
        #expect("\(c.database)" == "postgres://intake:(redacted)@db.internal:5432/intake?sslmode=require")
        #expect(DatabaseLocation.redacted("host=db user=intake password=hunter2 dbname=intake") == "host=db user=intake password=(redacted) dbname=intake")
        #expect(DatabaseLocation.redacted("postgres://intake@db/intake?password=hunter2&sslmode=require")
                == "postgres://intake@db/intake?password=(redacted)&sslmode=require")
        let error = try #require(throws: ConfigurationError.self) { try Configuration.load(["INTAKE_DATABASE_URL": "mysql://x"], workingDirectory: "/") }
        #expect("\(error)".contains("INTAKE_DATABASE_URL"))
    }
}
