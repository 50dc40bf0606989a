import Intake
import Web

/// `POST /account/profile`: the user's name.
enum AccountProfileSave {
    static func handle(_ context: RequestContext) throws -> Response {
        let user = context.user!
        let name = context.formFields["name"] ?? ""
        do {
            try context.services.stores.users.updateName(id: user.id, to: name)
        } catch let error as ValidationError {
            return try AccountPage.render(context, profile: FormState(values: ["name": name], errors: [error.field: error.message]),
                                          password: FormState(), status: .unprocessableContent)
        }
        context.flash(.success, "Your name was saved.")
        return .redirect(to: "/account")
    }
}
