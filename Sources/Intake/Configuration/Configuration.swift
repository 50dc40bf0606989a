import Database
import Integrations
import Sodium

/// Intake's configuration: every `INTAKE_*` variable, typed, with working defaults for a local
/// run, loaded once at start. A wrong value stops start-up with a message naming the variable.
public struct Configuration: Sendable {
    /// One configuration key: its variable, default and meaning, for `intake config` and the README.
    public struct Key: Sendable {
        public let name: String
        public let defaultValue: String
        public let summary: String
        public let secret: Bool
    }

    /// Every key Intake reads, in the order `intake config` prints them.
    public static let keys: [Key] = [
        Key(name: "INTAKE_HOME", defaultValue: "./var", summary: "Folder for the database, socket, key file, spools and nginx's runtime files.", secret: false),
        Key(name: "INTAKE_DATABASE", defaultValue: "$INTAKE_HOME/intake.db", summary: "SQLite database file.", secret: false),
        Key(name: "INTAKE_DATABASE_URL", defaultValue: "", summary: "postgres://user:password@host:5432/db to use PostgreSQL (several hosts share it); empty: the SQLite file.", secret: true),
        Key(name: "INTAKE_BASE_URL", defaultValue: "http://127.0.0.1:$INTAKE_HTTP_PORT", summary: "The public URL of the site (links, cookies, CSRF origin, OAuth redirects).", secret: false),
        Key(name: "INTAKE_LISTEN", defaultValue: "$INTAKE_HOME/intake.sock", summary: "FastCGI socket: a unix socket path, or 127.0.0.1:PORT.", secret: false),
        Key(name: "INTAKE_HTTP_PORT", defaultValue: "8080", summary: "Loopback port of the development nginx.", secret: false),
        Key(name: "INTAKE_WORKERS", defaultValue: "2", summary: "Worker processes started by `intake serve`.", secret: false),
        Key(name: "INTAKE_THREADS", defaultValue: "8", summary: "Request threads per worker process.", secret: false),
        Key(name: "INTAKE_SHUTDOWN_GRACE", defaultValue: "30", summary: "Seconds in-flight requests get to finish on SIGTERM.", secret: false),
        Key(name: "INTAKE_SECRET_KEY", defaultValue: "(generated into $INTAKE_HOME/secret.key)", summary: "64 hex characters; encrypts secrets at rest. INTAKE_SECRET_KEY_FILE names a file holding it.", secret: true),
        Key(name: "INTAKE_PUBLIC_DIR", defaultValue: "./public", summary: "Static files served by nginx.", secret: false),
        Key(name: "INTAKE_TEMPLATES_DIR", defaultValue: "./templates", summary: "Page templates, compiled at start.", secret: false),
        Key(name: "INTAKE_LOG_LEVEL", defaultValue: "info", summary: "trace, debug, info, notice, warning, error or critical.", secret: false),
        Key(name: "INTAKE_TEMPLATES_RELOAD", defaultValue: "0", summary: "1 recompiles changed templates before rendering (development only).", secret: false),
        Key(name: "INTAKE_STORAGE_DIR", defaultValue: "$INTAKE_HOME/storage", summary: "Where local-disk storage accounts keep files.", secret: false),
        Key(name: "INTAKE_SPOOL_DIR", defaultValue: "$INTAKE_HOME/spool", summary: "Where uploads are spooled while they arrive.", secret: false),
        Key(name: "INTAKE_TUS_EXPIRY_HOURS", defaultValue: "24", summary: "How long a resumable (tus) upload may rest between chunks before it expires.", secret: false),
        Key(name: "INTAKE_TUS_THRESHOLD_KIB", defaultValue: "20480", summary: "The portal page sends files above this size (KiB) as resumable tus uploads.", secret: false),
        Key(name: "INTAKE_TUS_CHUNK_KIB", defaultValue: "8192", summary: "Chunk size (KiB) of the portal page's resumable uploads; keep it under any proxy's body limit.", secret: false),
        Key(name: "INTAKE_DELIVERY_RETRY_HOURS", defaultValue: "24", summary: "How long delivery to a provider is retried before the file is marked failed and the owner told.", secret: false),
        Key(name: "INTAKE_FAILED_RETENTION_DAYS", defaultValue: "30", summary: "How long the bytes of a failed delivery are kept for a retry before they are removed.", secret: false),
        Key(name: "INTAKE_CLAMD_SOCKET", defaultValue: "", summary: "clamd's unix socket; empty: uploads are not scanned (the admin overview says so).", secret: false),
        Key(name: "INTAKE_SMTP_URL", defaultValue: "", summary: "Where mail goes: smtp://host:25, smtp://host:587?starttls or smtps://host:465; empty: mail stays queued.", secret: false),
        Key(name: "INTAKE_SMTP_USERNAME", defaultValue: "", summary: "SMTP user, if the server wants one.", secret: false),
        Key(name: "INTAKE_SMTP_PASSWORD", defaultValue: "", summary: "SMTP password (or INTAKE_SMTP_PASSWORD_FILE).", secret: true),
        Key(name: "INTAKE_MAIL_FROM", defaultValue: "Intake <intake@localhost>", summary: "The From of Intake's mail.", secret: false),
        Key(name: "INTAKE_JOBS_INTERVAL", defaultValue: "15", summary: "Seconds between runs of the background jobs (mail, expiry) in `intake serve`.", secret: false),
        Key(name: "INTAKE_METRICS_TOKEN", defaultValue: "", summary: "Bearer token a scraper sends for /metrics (at least 16 characters; or INTAKE_METRICS_TOKEN_FILE); empty: only admins signed in may read it.", secret: true),
        Key(name: "INTAKE_CURRENCY", defaultValue: "USD", summary: "ISO 4217 currency of plan prices and balances (and the default for storage pricing).", secret: false),
        Key(name: "INTAKE_GOOGLE_CLIENT_ID", defaultValue: "", summary: "Google OAuth client id; empty: Google is shown as not configured.", secret: false),
        Key(name: "INTAKE_GOOGLE_CLIENT_SECRET", defaultValue: "", summary: "Google OAuth client secret (or INTAKE_GOOGLE_CLIENT_SECRET_FILE).", secret: true),
        Key(name: "INTAKE_GOOGLE_AUTH_URL", defaultValue: "https://accounts.google.com/o/oauth2/v2/auth", summary: "Google's authorization endpoint.", secret: false),
        Key(name: "INTAKE_GOOGLE_TOKEN_URL", defaultValue: "https://oauth2.googleapis.com/token", summary: "Google's token endpoint.", secret: false),
        Key(name: "INTAKE_GOOGLE_USERINFO_URL", defaultValue: "https://openidconnect.googleapis.com/v1/userinfo", summary: "Google's userinfo endpoint.", secret: false),
        Key(name: "INTAKE_GOOGLE_REVOKE_URL", defaultValue: "https://oauth2.googleapis.com/revoke", summary: "Google's token revocation endpoint (Disconnect revokes the grant there).", secret: false),
        Key(name: "INTAKE_GOOGLE_API_URL", defaultValue: "https://www.googleapis.com/drive/v3", summary: "Google Drive API.", secret: false),
        Key(name: "INTAKE_GOOGLE_UPLOAD_URL", defaultValue: "https://www.googleapis.com/upload/drive/v3", summary: "Google Drive upload API.", secret: false),
        Key(name: "INTAKE_DROPBOX_APP_KEY", defaultValue: "", summary: "Dropbox app key; empty: Dropbox is shown as not configured.", secret: false),
        Key(name: "INTAKE_DROPBOX_APP_SECRET", defaultValue: "", summary: "Dropbox app secret (or INTAKE_DROPBOX_APP_SECRET_FILE).", secret: true),
        Key(name: "INTAKE_DROPBOX_AUTH_URL", defaultValue: "https://www.dropbox.com/oauth2/authorize", summary: "Dropbox's authorization endpoint.", secret: false),
        Key(name: "INTAKE_DROPBOX_TOKEN_URL", defaultValue: "https://api.dropboxapi.com/oauth2/token", summary: "Dropbox's token endpoint.", secret: false),
        Key(name: "INTAKE_DROPBOX_API_URL", defaultValue: "https://api.dropboxapi.com/2", summary: "Dropbox API (Disconnect revokes the grant at its /auth/token/revoke).", secret: false),
        Key(name: "INTAKE_DROPBOX_CONTENT_URL", defaultValue: "https://content.dropboxapi.com/2", summary: "Dropbox content (upload/download) API.", secret: false),
        Key(name: "INTAKE_WEBHOOKS_ALLOW_PRIVATE", defaultValue: "0", summary: "1 lets webhook endpoints use http:// and loopback, private or link-local addresses (tests, closed networks); 0: https:// to public addresses only.", secret: false),
        Key(name: "INTAKE_DEBUG_ROUTES", defaultValue: "0", summary: "1 adds /_debug/ routes used by the integration tests (a slow request, a multipart echo). Refused with an https base URL.", secret: false),
    ]

    public var home: String
    public var databasePath: String
    /// A PostgreSQL connection URL; nil for SQLite at `databasePath`.
    public var databaseURL: String?
    /// Where the database is.
    public var database: DatabaseLocation { DatabaseLocation(url: databaseURL, sqlitePath: databasePath) }
    public var baseURL: String
    public var listen: String
    public var httpPort: Int
    public var workers: Int
    public var threads: Int
    public var shutdownGrace: Double
    /// Where the secret key comes from; resolved to bytes by `SecretKeyStore`.
    public var secretKeySource: SecretKeySource
    public var publicDirectory: String
    public var templatesDirectory: String
    public var logLevel: String
    /// Whether the `/_debug/` routes for the integration tests are mounted.
    public var debugRoutes: Bool
    /// The currency of plan prices and balances.
    public var currency: Currency
    /// Development: recompile changed templates before rendering.
    public var templatesReload: Bool
    public var storageDirectory: String
    public var spoolDirectory: String
    /// How long a resumable upload may rest between chunks (`INTAKE_TUS_EXPIRY_HOURS`).
    public var tusLifetimeSeconds: Int64
    /// The portal page's resumable uploads: files above `tusThresholdBytes` go in chunks of `tusChunkBytes`.
    public var tusThresholdBytes: Int64
    public var tusChunkBytes: Int64
    /// How long a file's delivery is retried (`INTAKE_DELIVERY_RETRY_HOURS`).
    public var deliveryWindowSeconds: Int64
    /// How long a failed delivery's bytes are kept (`INTAKE_FAILED_RETENTION_DAYS`).
    public var failedRetentionSeconds: Int64
    /// clamd's socket, or nil when scanning is off.
    public var clamdSocket: String?
    public var smtpURL: String?
    public var smtpUsername: String?
    public var smtpPassword: String?
    public var mailFrom: String
    /// Seconds between job runs.
    public var jobsInterval: Int
    /// The bearer token that opens `/metrics` to a scraper, or nil: only signed-in admins.
    public var metricsToken: String?
    /// The OAuth providers, configured or not (then `isConfigured` is false).
    public var oauthProviders: [OAuthProvider.Kind: OAuthProvider]
    /// The Google Drive API and its upload endpoint (`INTAKE_GOOGLE_API_URL`, `INTAKE_GOOGLE_UPLOAD_URL`).
    public var googleDriveAPIURL: String
    public var googleDriveUploadURL: String
    /// Dropbox's content host (`INTAKE_DROPBOX_CONTENT_URL`); its API host is the provider's `identityURL`.
    public var dropboxContentURL: String
    /// Whether webhooks may go to http:// and to private addresses (`INTAKE_WEBHOOKS_ALLOW_PRIVATE`).
    public var webhooksAllowPrivate: Bool = false
    /// Every value of the provider keys, for `intake config`.
    var providerSettings: [(String, String)]

    /// Where the key that seals secrets comes from.
    public enum SecretKeySource: Sendable, Equatable {
        /// Given directly in `INTAKE_SECRET_KEY`.
        case value([UInt8])
        /// A file that must exist (`INTAKE_SECRET_KEY_FILE`).
        case file(String)
        /// A file created with mode 0600 on first start if missing (the default).
        case generatedFile(String)
    }

    /// Loads from `environment`, resolving relative paths against `workingDirectory`.
    public static func load(_ environment: [String: String], workingDirectory: String) throws -> Configuration {
        func value(_ key: String) -> String? {
            guard let v = environment[key]?.trimmingSpaces(), !v.isEmpty else { return nil }
            return v
        }
        func path(_ key: String, _ fallback: String) -> String {
            absolute(value(key) ?? fallback, relativeTo: workingDirectory)
        }
        /// A secret from `key`, or read from the file `key_FILE` names.
        func secretValue(_ key: String) throws -> String? {
            try value(key) ?? value(key + "_FILE").map { file in
                guard let text = try? String(contentsOfFile: absolute(file, relativeTo: workingDirectory), encoding: .utf8) else {
                    throw ConfigurationError(key: key + "_FILE", message: "names \(file), which cannot be read")
                }
                return text.trimmingSpaces()
            }
        }
        func integer(_ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
            guard let text = value(key) else { return fallback }
            guard let n = Int(text), range.contains(n) else {
                throw ConfigurationError(key: key, message: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return n
        }

        let home = path("INTAKE_HOME", "./var")
        let httpPort = try integer("INTAKE_HTTP_PORT", 8080, 1...65535)
        // Without an explicit base URL the site is the development nginx, on whatever port it has.
        let baseURL = value("INTAKE_BASE_URL") ?? "http://127.0.0.1:\(httpPort)"
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://"), !baseURL.hasSuffix("/") || baseURL.count > 8 else {
            throw ConfigurationError(key: "INTAKE_BASE_URL", message: "must start with http:// or https://, got '\(baseURL)'")
        }
        let secret: SecretKeySource
        if let hex = value("INTAKE_SECRET_KEY") {
            guard let key = Sodium.unhex(hex), key.count == 32 else {
                throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "must be 64 hexadecimal characters (32 bytes)")
            }
            secret = .value(key)
        } else if let file = value("INTAKE_SECRET_KEY_FILE") {
            secret = .file(absolute(file, relativeTo: workingDirectory))
        } else {
            secret = .generatedFile(home + "/secret.key")
        }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        let logLevel = value("INTAKE_LOG_LEVEL")?.lowercased() ?? "info"
        guard levels.contains(logLevel) else {
            throw ConfigurationError(key: "INTAKE_LOG_LEVEL", message: "must be one of \(levels.joined(separator: ", ")), got '\(logLevel)'")
        }
        let grace = value("INTAKE_SHUTDOWN_GRACE") ?? "30"
        guard let shutdownGrace = Double(grace), shutdownGrace >= 0, shutdownGrace <= 3600 else {
            throw ConfigurationError(key: "INTAKE_SHUTDOWN_GRACE", message: "must be a number of seconds from 0 to 3600, got '\(grace)'")
        }
        let debugRoutes = value("INTAKE_DEBUG_ROUTES") ?? "0"
        guard debugRoutes == "0" || debugRoutes == "1" else {
            throw ConfigurationError(key: "INTAKE_DEBUG_ROUTES", message: "must be 0 or 1, got '\(debugRoutes)'")
        }
        if debugRoutes == "1" && baseURL.hasPrefix("https://") {
            throw ConfigurationError(key: "INTAKE_DEBUG_ROUTES", message: "is for tests on loopback and cannot be used with an https INTAKE_BASE_URL")
        }
        let currencyCode = value("INTAKE_CURRENCY") ?? "USD"
        guard let currency = Currency(code: currencyCode) else {
            throw ConfigurationError(key: "INTAKE_CURRENCY", message: "must be an ISO 4217 code Intake knows (USD, EUR, GBP, JPY, …), got '\(currencyCode)'")
        }
        let metricsToken = try secretValue("INTAKE_METRICS_TOKEN")
        if let metricsToken, metricsToken.count < 16 || metricsToken.contains(where: \.isWhitespace) {
            throw ConfigurationError(key: "INTAKE_METRICS_TOKEN", message: "must be at least 16 characters without spaces (it is a password for /metrics)")
        }
        let reload = value("INTAKE_TEMPLATES_RELOAD") ?? "0"
        guard reload == "0" || reload == "1" else {
            throw ConfigurationError(key: "INTAKE_TEMPLATES_RELOAD", message: "must be 0 or 1, got '\(reload)'")
        }
        func withoutTrailingSlash(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
        var providerSettings: [(String, String)] = []
        func setting(_ key: String) throws -> String {
            var v = value(key) ?? Configuration.keys.first { $0.name == key }!.defaultValue
            if value(key) == nil, let file = value(key + "_FILE") {
                guard let text = try? String(contentsOfFile: absolute(file, relativeTo: workingDirectory), encoding: .utf8) else {
                    throw ConfigurationError(key: key + "_FILE", message: "names \(file), which cannot be read")
                }
                v = text.trimmingSpaces()
            }
            if key.hasSuffix("_URL"), !(v.hasPrefix("https://") || v.hasPrefix("http://")) {
                throw ConfigurationError(key: key, message: "must be an http(s) URL, got '\(v)'")
            }
            let secret = Configuration.keys.first { $0.name == key }!.secret
            providerSettings.append((key, secret ? (v.isEmpty ? "" : "(set, redacted)") : v))
            return v
        }
        let google = OAuthProvider.google(
            clientID: try setting("INTAKE_GOOGLE_CLIENT_ID"), clientSecret: try setting("INTAKE_GOOGLE_CLIENT_SECRET"),
            authorizationURL: try setting("INTAKE_GOOGLE_AUTH_URL"), tokenURL: try setting("INTAKE_GOOGLE_TOKEN_URL"),
            userinfoURL: try setting("INTAKE_GOOGLE_USERINFO_URL"), revocationURL: try setting("INTAKE_GOOGLE_REVOKE_URL"))
        let driveAPI = try setting("INTAKE_GOOGLE_API_URL")
        let driveUpload = try setting("INTAKE_GOOGLE_UPLOAD_URL")
        let dropbox = OAuthProvider.dropbox(
            appKey: try setting("INTAKE_DROPBOX_APP_KEY"), appSecret: try setting("INTAKE_DROPBOX_APP_SECRET"),
            authorizationURL: try setting("INTAKE_DROPBOX_AUTH_URL"), tokenURL: try setting("INTAKE_DROPBOX_TOKEN_URL"),
            apiURL: try setting("INTAKE_DROPBOX_API_URL"))
        let dropboxContent = try setting("INTAKE_DROPBOX_CONTENT_URL")
        let webhooksAllowPrivate = value("INTAKE_WEBHOOKS_ALLOW_PRIVATE") ?? "0"
        guard webhooksAllowPrivate == "0" || webhooksAllowPrivate == "1" else {
            throw ConfigurationError(key: "INTAKE_WEBHOOKS_ALLOW_PRIVATE", message: "must be 0 or 1, got '\(webhooksAllowPrivate)'")
        }
        return Configuration(
            home: home,
            databasePath: path("INTAKE_DATABASE", home + "/intake.db"),
            databaseURL: try value("INTAKE_DATABASE_URL").map { url in
                guard DatabaseLocation.isPostgreSQL(url) else {
                    throw ConfigurationError(key: "INTAKE_DATABASE_URL", message: "must start with postgres:// or postgresql://")
                }
                return url
            },
            baseURL: withoutTrailingSlash(baseURL),
            listen: value("INTAKE_LISTEN").map { $0.contains("/") ? absolute($0, relativeTo: workingDirectory) : $0 } ?? home + "/intake.sock",
            httpPort: httpPort,
            workers: try integer("INTAKE_WORKERS", 2, 1...64),
            threads: try integer("INTAKE_THREADS", 8, 1...256),
            shutdownGrace: shutdownGrace,
            secretKeySource: secret,
            publicDirectory: path("INTAKE_PUBLIC_DIR", "./public"),
            templatesDirectory: path("INTAKE_TEMPLATES_DIR", "./templates"),
            logLevel: logLevel,
            debugRoutes: debugRoutes == "1",
            currency: currency,
            templatesReload: reload == "1",
            storageDirectory: path("INTAKE_STORAGE_DIR", home + "/storage"),
            spoolDirectory: path("INTAKE_SPOOL_DIR", home + "/spool"),
            tusLifetimeSeconds: Int64(try integer("INTAKE_TUS_EXPIRY_HOURS", 24, 1...24 * 30)) * 3600,
            tusThresholdBytes: Int64(try integer("INTAKE_TUS_THRESHOLD_KIB", 20480, 0...100 * 1024 * 1024)) * 1024,
            tusChunkBytes: Int64(try integer("INTAKE_TUS_CHUNK_KIB", 8192, 64...1024 * 1024)) * 1024,
            deliveryWindowSeconds: Int64(try integer("INTAKE_DELIVERY_RETRY_HOURS", 24, 1...24 * 90)) * 3600,
            failedRetentionSeconds: Int64(try integer("INTAKE_FAILED_RETENTION_DAYS", 30, 1...3650)) * 86400,
            clamdSocket: value("INTAKE_CLAMD_SOCKET").map { absolute($0, relativeTo: workingDirectory) },
            smtpURL: try value("INTAKE_SMTP_URL").map { url in
                guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
                    throw ConfigurationError(key: "INTAKE_SMTP_URL", message: "must start with smtp:// or smtps://, got '\(url)'")
                }
                return url
            },
            smtpUsername: value("INTAKE_SMTP_USERNAME"),
            smtpPassword: try secretValue("INTAKE_SMTP_PASSWORD"),
            mailFrom: value("INTAKE_MAIL_FROM") ?? "Intake <intake@localhost>",
            jobsInterval: try integer("INTAKE_JOBS_INTERVAL", 15, 1...3600),
            metricsToken: metricsToken,
            oauthProviders: [.google: google, .dropbox: dropbox],
            googleDriveAPIURL: withoutTrailingSlash(driveAPI),
            googleDriveUploadURL: withoutTrailingSlash(driveUpload),
            dropboxContentURL: withoutTrailingSlash(dropboxContent),
            webhooksAllowPrivate: webhooksAllowPrivate == "1",
            providerSettings: providerSettings
        )
    }

    /// The effective configuration as `KEY=value` lines, secrets redacted.
    public func describe() -> [(String, String)] {
        let secretText: String
        switch secretKeySource {
        case .value: secretText = "(set, redacted)"
        case .file(let p): secretText = "(from file \(p), redacted)"
        case .generatedFile(let p): secretText = "(from file \(p), generated if missing, redacted)"
        }
        return [
            ("INTAKE_HOME", home), ("INTAKE_DATABASE", databasePath),
            ("INTAKE_DATABASE_URL", databaseURL.map(DatabaseLocation.redacted) ?? ""), ("INTAKE_BASE_URL", baseURL),
            ("INTAKE_LISTEN", listen), ("INTAKE_HTTP_PORT", String(httpPort)), ("INTAKE_WORKERS", String(workers)),
            ("INTAKE_THREADS", String(threads)), ("INTAKE_SHUTDOWN_GRACE", String(shutdownGrace)),
            ("INTAKE_SECRET_KEY", secretText), ("INTAKE_PUBLIC_DIR", publicDirectory),
            ("INTAKE_TEMPLATES_DIR", templatesDirectory), ("INTAKE_LOG_LEVEL", logLevel),
            ("INTAKE_SMTP_URL", smtpURL ?? ""), ("INTAKE_SMTP_USERNAME", smtpUsername ?? ""),
            ("INTAKE_SMTP_PASSWORD", smtpPassword == nil ? "" : "(set, redacted)"), ("INTAKE_MAIL_FROM", mailFrom), ("INTAKE_JOBS_INTERVAL", String(jobsInterval)),
            ("INTAKE_METRICS_TOKEN", metricsToken == nil ? "" : "(set, redacted)"),
            ("INTAKE_STORAGE_DIR", storageDirectory), ("INTAKE_SPOOL_DIR", spoolDirectory),
            ("INTAKE_TUS_EXPIRY_HOURS", String(tusLifetimeSeconds / 3600)), ("INTAKE_TUS_THRESHOLD_KIB", String(tusThresholdBytes / 1024)),
            ("INTAKE_TUS_CHUNK_KIB", String(tusChunkBytes / 1024)), ("INTAKE_DELIVERY_RETRY_HOURS", String(deliveryWindowSeconds / 3600)),
            ("INTAKE_FAILED_RETENTION_DAYS", String(failedRetentionSeconds / 86400)), ("INTAKE_CLAMD_SOCKET", clamdSocket ?? ""),
            ("INTAKE_TEMPLATES_RELOAD", templatesReload ? "1" : "0"), ("INTAKE_CURRENCY", currency.code), ("INTAKE_DEBUG_ROUTES", debugRoutes ? "1" : "0"), ("INTAKE_WEBHOOKS_ALLOW_PRIVATE", webhooksAllowPrivate ? "1" : "0"),
        ] + providerSettings
    }

    /// Whether the site is served over TLS (cookies get `Secure` and the `__Host-` prefix).
    public var isHTTPS: Bool { baseURL.hasPrefix("https://") }

    static func absolute(_ path: String, relativeTo base: String) -> String {
        if path.hasPrefix("/") { return normalized(path) }
        return normalized(base + "/" + path)
    }

    /// Removes `.` segments and resolves `..` so nginx and logs show clean paths.
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", !parts.isEmpty { parts.removeLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}

/// A configuration value that cannot be used; the message names the variable.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let key: String
    public let message: String
    public var description: String { "\(key) \(message)" }
}
