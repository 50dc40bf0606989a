/// A portal's logo: its bytes apart from the portal's row (so lists of portals never read
/// images), its type as its bytes say, and its text alternative on the row.
extension PortalStore {
    /// A logo as stored.
    public struct Logo: Sendable, Equatable {
        public let contentType: String
        public let bytes: [UInt8]
    }

    /// Sets (or replaces) the portal's logo after checking its bytes and its text alternative
    /// (empty: "<portal name> logo"); audited.
    public func setLogo(portalID: Int64, bytes: [UInt8], alt: String, by actor: AuditLog.Actor) throws {
        let type = try PortalBranding.logoType(bytes)
        let alt = alt.trimmingSpaces()
        guard alt.count <= PortalBranding.maxLogoAltLength else {
            throw ValidationError("logo_alt", "Use at most \(PortalBranding.maxLogoAltLength) characters.")
        }
        try db.write {
            guard let portal = try find(id: portalID) else { throw ValidationError("", "There is no such portal.") }
            try db.execute("DELETE FROM portal_logos WHERE portal_id = $1", [portalID])
            try db.execute("INSERT INTO portal_logos (portal_id, content_type, bytes) VALUES ($1, $2, $3)", [portalID, type, bytes])
            try db.execute("UPDATE portals SET logo_alt = $1, logo_updated_at = $2, updated_at = $2 WHERE id = $3",
                           [alt.isEmpty ? portal.name + " logo" : alt, clock.now(), portalID])
            try AuditLog(db: db, clock: clock).record(actor, action: "portal.logo", entityType: "portal", entityID: String(portalID),
                                                      after: [("content_type", type), ("bytes", String(bytes.count))])
        }
    }

    /// Removes the portal's logo; audited.
    public func removeLogo(portalID: Int64, by actor: AuditLog.Actor) throws {
        try db.write {
            try db.execute("DELETE FROM portal_logos WHERE portal_id = $1", [portalID])
            try db.execute("UPDATE portals SET logo_alt = NULL, logo_updated_at = NULL, updated_at = $1 WHERE id = $2", [clock.now(), portalID])
            try AuditLog(db: db, clock: clock).record(actor, action: "portal.logo.remove", entityType: "portal", entityID: String(portalID))
        }
    }

    /// The portal's logo, if it has one.
    public func logo(portalID: Int64) throws -> Logo? {
        try db.queryOne("SELECT content_type, bytes FROM portal_logos WHERE portal_id = $1", [portalID]).map {
            Logo(contentType: try $0.get("content_type"), bytes: try $0.get("bytes"))
        }
    }
}
