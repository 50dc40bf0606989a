import Intake
import Templates

/// A user's quota as the quotas list's row and the user page's summary: its parts (plan,
/// purchases, override), what is used, and how near the limit.
enum UserQuotaRow {
    static func value(_ q: UserQuota) -> TemplateValue {
        let percent = q.usage.isInfinite ? 100 : min(100, Int((q.usage * 100).rounded()))
        return [
            "id": .int(q.userID), "email": .string(q.email), "name": .string(q.name),
            "plan": q.planName.map { .string($0) } ?? .null,
            "planAllowance": .string(q.planStorageBytes.map { ByteSize(bytes: $0).description } ?? "free storage"),
            "extra": .string(ByteSize(bytes: q.purchasedExtraBytes).description),
            "override": q.overrideBytes.map { .string(ByteSize(bytes: $0).description) } ?? .null,
            "effective": .string(ByteSize(bytes: q.effectiveBytes).description),
            "used": .string(ByteSize(bytes: q.usedBytes).description),
            "percent": .int(Int64(percent)),
            "percentText": .string(UsagePercent.text(q)),
            "over": .bool(q.isOver), "near": .bool(q.isNear),
        ]
    }
}
