import Intake
import Web

/// Who may reach a route.
public enum Access: Sendable {
    /// Anyone, signed in or not.
    case anyone
    /// A signed-in user of any role.
    case signedIn
    /// A signed-in admin.
    case admin

    /// Whether `user` may pass, or the error that answers them: anonymous visitors are sent to
    /// sign in (and back here afterwards); users on an admin page get a 403.
    func check(_ user: User?, request: Request) -> AccessDecision {
        switch self {
        case .anyone: return .allow
        case .signedIn: return user == nil ? .signIn : .allow
        case .admin:
            guard let user else { return .signIn }
            return user.role == .admin ? .allow : .forbidden
        }
    }
}

enum AccessDecision: Equatable {
    case allow
    case signIn
    case forbidden
}

/// Where a sign-in may send the browser afterwards: only a path on this site.
public enum LocalRedirect {
    /// `next` if it is a local absolute path (not `//host`, not `/\host`, no scheme, no control
    /// characters), else `fallback`.
    public static func sanitize(_ next: String?, fallback: String = "/dashboard") -> String {
        guard let next, next.hasPrefix("/"), next.count <= 2048 else { return fallback }
        let scalars = Array(next.unicodeScalars)
        if scalars.count > 1, scalars[1] == "/" || scalars[1] == "\\" { return fallback }
        if scalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" }) { return fallback }
        return next
    }
}
