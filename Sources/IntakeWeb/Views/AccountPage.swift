import Intake
import Templates
import Web

/// `account`: the owner's name, password, notification and API token forms, each with its own kept
/// values and errors.
enum AccountPage {
    /// `tokenForm` keeps the API token form's values and errors; `newToken` is a token just
    /// created, shown this once.
    static func render(_ context: RequestContext, profile: FormState, password: FormState, tokenForm: FormState = FormState(),
                       newToken: String? = nil, status: HTTPStatus) throws -> Response {
        let user = context.user!
        let mode = try context.stores.notifications.ownerMode(userID: user.id)
        let tokens = try context.stores.apiTokens.list(userID: user.id)
        return try PageView.render(context, "account", title: "Account", status: status, [
            "notifications": NotificationsView.options(selected: mode.rawValue, inherit: nil),
            "profile": profile.templateValue,
            "password": password.templateValue,
            "minimumPasswordLength": .int(Int64(UserRules.minimumPasswordLength)),
            "tokenForm": tokenForm.templateValue,
            "scopes": .list(APITokenScope.allCases.map { scope in
                ["value": .string(scope.rawValue), "label": .string(scope.label),
                 "selected": .bool((tokenForm.values["token_scope"] ?? APITokenScope.read.rawValue) == scope.rawValue)]
            }),
            "newToken": newToken.map(TemplateValue.string) ?? .null,
            "tokens": .list(tokens.map { token in
                ["id": .int(token.id), "name": .string(token.name), "prefix": .string(token.prefix), "scope": .string(token.scope.label),
                 "created": .string(UTCDate.day(token.createdAt)), "used": token.lastUsedAt.map(UTCDate.moment) ?? .null,
                 "revoked": token.revokedAt.map { .string(UTCDate.day($0)) } ?? .null]
            }),
            "hasTokens": .bool(!tokens.isEmpty),
        ])
    }
}
