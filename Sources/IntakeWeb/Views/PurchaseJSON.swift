import Intake
import Web

/// Purchases, balances and quotas as the storage API shows them.
enum PurchaseJSON {
    static func purchase(_ p: StoragePurchase) -> JSONValue {
        ["id": .string(String(p.id)), "gb": .int(Int64(p.gb)), "bytes": .int(p.bytes), "cost": .string(p.cost.decimalText),
         "costMinor": .int(p.cost.minorUnits), "currency": .string(p.cost.currency.code), "startsAt": .int(p.startsAt),
         "expiresAt": p.expiresAt.map { .int($0) } ?? .null, "active": .bool(p.expiredAt == nil)]
    }

    static func balance(_ m: Money) -> JSONValue {
        ["balance": .string(m.decimalText), "balanceMinor": .int(m.minorUnits), "currency": .string(m.currency.code)]
    }

    static func quota(_ q: UserQuota) -> JSONValue {
        ["usedBytes": .int(q.usedBytes), "quotaBytes": .int(q.effectiveBytes), "planBytes": q.planStorageBytes.map { .int($0) } ?? .null,
         "purchasedBytes": .int(q.purchasedExtraBytes), "overrideBytes": q.overrideBytes.map { .int($0) } ?? .null, "over": .bool(q.isOver)]
    }

    /// The API's one error shape, with what a client needs to act on it.
    static func error(_ code: String, _ message: String, _ extra: [(String, JSONValue)] = []) -> JSONValue {
        ["error": .object([("code", .string(code)), ("message", .string(message))] + extra)]
    }
}
