import Database

/// What happens when a user stores more than their quota.
public enum OverQuotaPolicy: Sendable, Equatable {
    /// New uploads are refused until they are under quota again (the default).
    case blockUploads
    /// After a grace period of this many days, the oldest files are deleted until under quota.
    case deleteOldest(graceDays: Int)

    public var code: String { if case .blockUploads = self { return "block" } else { return "delete_oldest" } }
    public var graceDays: Int? { if case .deleteOldest(let d) = self { return d } else { return nil } }
}

/// The operator's storage pricing: one-time purchases of extra storage, the free allowance, and
/// the over-quota policy.
public struct StoragePricing: Sendable, Equatable {
    public var pricePerGB: Money
    public var minimumGB: Int
    public var maximumGB: Int
    /// How long a purchase lasts; nil: it never expires.
    public var validityDays: Int?
    public var freeStorageBytes: Int64
    public var overQuota: OverQuotaPolicy

    /// The free storage before an admin saves any pricing.
    public static let defaultFreeStorageBytes: Int64 = 5_000_000_000

    /// What applies before an admin saves anything: nothing for sale until priced, 5 GB free.
    public static func defaults(currency: Currency) -> StoragePricing {
        StoragePricing(pricePerGB: Money(minorUnits: 0, currency: currency), minimumGB: 1, maximumGB: 100, validityDays: 365,
                       freeStorageBytes: defaultFreeStorageBytes, overQuota: .blockUploads)
    }

    /// The fields as the audit log records them.
    var auditFields: [(String, String?)] {
        [("price_per_gb", pricePerGB.decimalText), ("currency", pricePerGB.currency.code), ("min_gb", String(minimumGB)),
         ("max_gb", String(maximumGB)), ("validity_days", validityDays.map(String.init)), ("free_storage_bytes", String(freeStorageBytes)),
         ("over_quota_policy", overQuota.code), ("grace_days", overQuota.graceDays.map(String.init))]
    }
}

/// One saved version of the pricing: who saved it, when.
public struct StoragePricingVersion: Sendable {
    public let id: Int64
    public let pricing: StoragePricing
    public let createdByEmail: String?
    public let createdAt: Int64
}

/// Parses the pricing form, collecting an error for every field that is wrong.
public enum StoragePricingForm {
    /// `installation`: the currency plans and balances are kept in (INTAKE_CURRENCY). One currency
    /// per installation: a price in another could not be paid from a balance, so it is refused.
    public static func parse(_ field: (String) -> String?, installation: Currency) -> Result<StoragePricing, FieldErrors> {
        var errors = FieldErrors()
        var currency = Currency(code: field("currency") ?? "")
        if currency == nil { errors["currency"] = "Choose a currency (an ISO 4217 code such as USD or EUR)." }
        if let chosen = currency, chosen != installation {
            errors["currency"] = "Plans and balances here are in \(installation.code), so storage is priced in \(installation.code) too: "
                + "a price in \(chosen.code) could not be paid from a balance. The installation's currency is set by INTAKE_CURRENCY."
            currency = installation
        }
        var price: Money?
        if let currency {
            price = errors.capture("price_per_gb") { try Money.parse(field("price_per_gb") ?? "", currency: currency) }
        }
        let minGB = errors.capture("min_gb") { try WholeNumber.parse(field("min_gb"), in: 1...100_000) }
        let maxGB = errors.capture("max_gb") { try WholeNumber.parse(field("max_gb"), in: 1...1_000_000) }
        if let minGB, let maxGB, maxGB < minGB { errors["max_gb"] = "The maximum must not be below the minimum (\(minGB) GB)." }
        var validity: Int?
        if field("never_expires") == nil {
            validity = errors.capture("validity_days") { try WholeNumber.parse(field("validity_days"), in: 1...3650) }
        }
        let free = errors.capture("free_storage") {
            try ByteSize.parse(field("free_storage_number") ?? "", unit: field("free_storage_unit") ?? "")
        }
        if let free, free.bytes > 1_000_000_000_000_000 { errors["free_storage"] = "Use at most 1000 TB." }
        var policy: OverQuotaPolicy?
        switch field("over_quota_policy") {
        case "block": policy = .blockUploads
        case "delete_oldest":
            if let days = errors.capture("grace_days", { try WholeNumber.parse(field("grace_days"), in: 1...365) }) {
                policy = .deleteOldest(graceDays: days)
            }
        default: errors["over_quota_policy"] = "Choose what happens over quota."
        }
        guard errors.isEmpty, let price, let minGB, let maxGB, let free, let policy else { return .failure(errors) }
        return .success(StoragePricing(pricePerGB: price, minimumGB: minGB, maximumGB: maxGB, validityDays: validity,
                                       freeStorageBytes: free.bytes, overQuota: policy))
    }
}

/// Pricing versions in the database; the newest is the one in force.
public struct StoragePricingStore {
    let db: Database
    let clock: EpochClock
    let currency: Currency

    public init(db: Database, clock: EpochClock, currency: Currency) {
        self.db = db
        self.clock = clock
        self.currency = currency
    }

    /// The pricing in force: the newest version, or the defaults.
    public func current() throws -> StoragePricing {
        try history(limit: 1).first?.pricing ?? .defaults(currency: currency)
    }

    /// Saves a new version, with its audit entry, in one transaction.
    @discardableResult
    public func save(_ pricing: StoragePricing, by actor: AuditLog.Actor) throws -> Int64 {
        try db.write {
            let before = try history(limit: 1).first?.pricing
            let id = try db.scalar("""
                INSERT INTO storage_pricing_versions (price_per_gb_minor, currency, min_gb, max_gb, validity_days, free_storage_bytes,
                                                      over_quota_policy, grace_days, created_by, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
                """, [pricing.pricePerGB.minorUnits, pricing.pricePerGB.currency.code, pricing.minimumGB, pricing.maximumGB,
                      pricing.validityDays, pricing.freeStorageBytes, pricing.overQuota.code, pricing.overQuota.graceDays,
                      actor.userID, clock.now()], as: Int64.self)!
            try AuditLog(db: db, clock: clock).record(actor, action: "storage_pricing.save", entityType: "storage_pricing",
                                                      entityID: String(id), before: before?.auditFields, after: pricing.auditFields)
            return id
        }
    }

    /// Saved versions, newest first.
    public func history(limit: Int) throws -> [StoragePricingVersion] {
        try db.query("""
            SELECT v.*, u.email AS created_by_email FROM storage_pricing_versions v LEFT JOIN users u ON u.id = v.created_by
            ORDER BY v.id DESC LIMIT $1
            """, [limit]).map { row in
            let code: String = try row.get("currency")
            guard let currency = Currency(code: code) else { throw DatabaseError(.decoding, "unknown currency \(code)") }
            let policy: String = try row.get("over_quota_policy")
            let grace: Int? = try row.get("grace_days")
            let pricing = StoragePricing(
                pricePerGB: Money(minorUnits: try row.get("price_per_gb_minor"), currency: currency),
                minimumGB: try row.get("min_gb"), maximumGB: try row.get("max_gb"), validityDays: try row.get("validity_days"),
                freeStorageBytes: try row.get("free_storage_bytes"),
                overQuota: policy == "delete_oldest" ? .deleteOldest(graceDays: grace ?? 30) : .blockUploads)
            return StoragePricingVersion(id: try row.get("id"), pricing: pricing, createdByEmail: try row.get("created_by_email"),
                                         createdAt: try row.get("created_at"))
        }
    }
}

