//! Core SCIM schema definitions (RFC 7643 §4, §8.7): the User, Group and enterprise User
//! extension attributes with the characteristics that change behaviour — type, multiValued,
//! caseExact, mutability, returned, uniqueness.
//!
//! The filter evaluator uses `caseExact` and `type`, the server uses `mutability` and
//! `returned`, and `/Schemas` is rendered from the same tables so what is advertised is what is
//! enforced.

use serde_json::{json, Map, Value};

/// URN of the core User schema (RFC 7643 §4.1).
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// URN of the core Group schema (RFC 7643 §4.2).
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// URN of the enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The custom User extension the reference server ships with, named after Microsoft's own
/// example ("Customize user provisioning attribute-mappings": the attribute name pattern
/// `urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:CustomAttribute`), so
/// the shipped Entra and Okta custom-attribute scenarios have a server that stores, returns
/// and advertises it.
pub const CUSTOM_EXTENSION_URN: &str =
    "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
/// ListResponse message URN (RFC 7644 §3.4.2).
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Error message URN (RFC 7644 §3.12).
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// PatchOp message URN (RFC 7644 §3.5.2).
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// SearchRequest message URN (RFC 7644 §3.4.3).
pub const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// ServiceProviderConfig schema URN (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_URN: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// ResourceType schema URN (RFC 7643 §6).
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// Schema schema URN (RFC 7643 §7).
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// SCIM attribute data types (RFC 7643 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// RFC 7643 §7 `returned`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// RFC 7643 §7 `uniqueness`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition. Built with the `const fn` helpers below so the tables read like
/// the RFC's schema listings.
#[derive(Clone, Copy, Debug)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub description: &'static str,
    pub sub_attributes: &'static [AttrDef],
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
}

impl AttrDef {
    pub const fn new(name: &'static str, ty: AttrType, description: &'static str) -> AttrDef {
        AttrDef {
            name,
            ty,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            description,
            sub_attributes: &[],
            canonical_values: &[],
            reference_types: &[],
        }
    }
    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    const fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    const fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    const fn unique(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    const fn subs(mut self, s: &'static [AttrDef]) -> Self {
        self.sub_attributes = s;
        self
    }
    const fn canon(mut self, c: &'static [&'static str]) -> Self {
        self.canonical_values = c;
        self
    }
    const fn refs(mut self, r: &'static [&'static str]) -> Self {
        self.reference_types = r;
        self
    }

    /// Sub-attribute by case-insensitive name (RFC 7643 §2.1: attribute names are
    /// case-insensitive).
    pub fn sub(&self, name: &str) -> Option<&'static AttrDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The RFC 7643 §7 JSON representation used by `/Schemas`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.ty.as_str()));
        m.insert("multiValued".into(), json!(self.multi_valued));
        m.insert("description".into(), json!(self.description));
        m.insert("required".into(), json!(self.required));
        if matches!(
            self.ty,
            AttrType::String | AttrType::Reference | AttrType::Binary
        ) {
            m.insert("caseExact".into(), json!(self.case_exact));
        }
        if !self.canonical_values.is_empty() {
            m.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        if !self.reference_types.is_empty() {
            m.insert("referenceTypes".into(), json!(self.reference_types));
        }
        m.insert("mutability".into(), json!(self.mutability.as_str()));
        m.insert("returned".into(), json!(self.returned.as_str()));
        m.insert("uniqueness".into(), json!(self.uniqueness.as_str()));
        if !self.sub_attributes.is_empty() {
            let subs: Vec<Value> = self.sub_attributes.iter().map(|s| s.to_json()).collect();
            m.insert("subAttributes".into(), Value::Array(subs));
        }
        Value::Object(m)
    }
}

/// A schema: its URN and its attributes.
#[derive(Debug)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttrDef],
}

impl SchemaDef {
    pub fn attr(&self, name: &str) -> Option<&'static AttrDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn to_json(&self, base_url: &str) -> Value {
        json!({
            "schemas": [SCHEMA_URN],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(|a| a.to_json()).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{}", self.id),
            }
        })
    }
}

use AttrType as T;
use Mutability as M;

const fn s(name: &'static str, d: &'static str) -> AttrDef {
    AttrDef::new(name, T::String, d)
}

const TYPE_PRIMARY_DISPLAY: [AttrDef; 3] = [
    s(
        "display",
        "A human-readable name, primarily used for display purposes.",
    ),
    s("type", "A label indicating the attribute's function."),
    AttrDef::new(
        "primary",
        T::Boolean,
        "Indicates the 'primary' or preferred value.",
    ),
];

const fn mv_sub(value: AttrDef, canon: &'static [&'static str]) -> [AttrDef; 4] {
    [
        value,
        TYPE_PRIMARY_DISPLAY[0],
        TYPE_PRIMARY_DISPLAY[1].canon(canon),
        TYPE_PRIMARY_DISPLAY[2],
    ]
}

const NAME_SUBS: &[AttrDef] = &[
    s("formatted", "The full name, formatted for display."),
    s("familyName", "The family name of the User."),
    s("givenName", "The given name of the User."),
    s("middleName", "The middle name(s) of the User."),
    s("honorificPrefix", "The honorific prefix(es) of the User."),
    s("honorificSuffix", "The honorific suffix(es) of the User."),
];
const EMAIL_SUBS: &[AttrDef] = &mv_sub(
    s("value", "Email address for the User."),
    &["work", "home", "other"],
);
const PHONE_SUBS: &[AttrDef] = &mv_sub(
    s("value", "Phone number of the User."),
    &["work", "home", "mobile", "fax", "pager", "other"],
);
const IMS_SUBS: &[AttrDef] = &mv_sub(
    s("value", "Instant messaging address for the User."),
    &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
);
const PHOTO_SUBS: &[AttrDef] = &mv_sub(
    AttrDef::new("value", T::Reference, "URL of a photo of the User.").refs(&["external"]),
    &["photo", "thumbnail"],
);
const ADDRESS_SUBS: &[AttrDef] = &[
    s("formatted", "The full mailing address."),
    s("streetAddress", "The full street address component."),
    s("locality", "The city or locality component."),
    s("region", "The state or region component."),
    s("postalCode", "The zip code or postal code component."),
    s("country", "The country name component."),
    s("type", "A label indicating the attribute's function.").canon(&["work", "home", "other"]),
    AttrDef::new(
        "primary",
        T::Boolean,
        "Indicates the 'primary' or preferred address.",
    ),
];
const USER_GROUP_SUBS: &[AttrDef] = &[
    s("value", "The identifier of the User's group.").mutability(M::ReadOnly),
    AttrDef::new(
        "$ref",
        T::Reference,
        "The URI of the corresponding Group resource.",
    )
    .refs(&["User", "Group"])
    .mutability(M::ReadOnly),
    s("display", "A human-readable name of the group.").mutability(M::ReadOnly),
    s("type", "Membership type: direct or indirect.")
        .canon(&["direct", "indirect"])
        .mutability(M::ReadOnly),
];
const GENERIC_MV_SUBS: &[AttrDef] = &mv_sub(s("value", "The value."), &[]);
const CERT_SUBS: &[AttrDef] = &mv_sub(
    AttrDef::new("value", T::Binary, "The value of an X.509 certificate."),
    &[],
);

/// RFC 7643 §4.1 / §8.7.1 User attributes.
pub const USER_ATTRS: &[AttrDef] = &[
    s(
        "userName",
        "Unique identifier for the User, typically used to sign in.",
    )
    .required()
    .unique(Uniqueness::Server),
    AttrDef::new(
        "name",
        T::Complex,
        "The components of the user's real name.",
    )
    .subs(NAME_SUBS),
    s("displayName", "The name of the User, suitable for display."),
    s("nickName", "The casual way to address the user."),
    AttrDef::new(
        "profileUrl",
        T::Reference,
        "A fully qualified URL to the User's profile.",
    )
    .refs(&["external"]),
    s("title", "The user's title."),
    s("userType", "The organization-to-user relationship."),
    s(
        "preferredLanguage",
        "The User's preferred written or spoken language.",
    ),
    s("locale", "The User's default location for localization."),
    s("timezone", "The User's time zone in 'Olson' format."),
    AttrDef::new("active", T::Boolean, "The User's administrative status."),
    s("password", "The User's cleartext password; never returned.")
        .mutability(M::WriteOnly)
        .returned(Returned::Never),
    AttrDef::new("emails", T::Complex, "Email addresses for the user.")
        .multi()
        .subs(EMAIL_SUBS),
    AttrDef::new("phoneNumbers", T::Complex, "Phone numbers for the User.")
        .multi()
        .subs(PHONE_SUBS),
    AttrDef::new(
        "ims",
        T::Complex,
        "Instant messaging addresses for the User.",
    )
    .multi()
    .subs(IMS_SUBS),
    AttrDef::new("photos", T::Complex, "URLs of photos of the User.")
        .multi()
        .subs(PHOTO_SUBS),
    AttrDef::new(
        "addresses",
        T::Complex,
        "A physical mailing address for this User.",
    )
    .multi()
    .subs(ADDRESS_SUBS),
    AttrDef::new(
        "groups",
        T::Complex,
        "Groups the user belongs to (computed, readOnly).",
    )
    .multi()
    .mutability(M::ReadOnly)
    .subs(USER_GROUP_SUBS),
    AttrDef::new("entitlements", T::Complex, "Entitlements of the User.")
        .multi()
        .subs(GENERIC_MV_SUBS),
    AttrDef::new("roles", T::Complex, "Roles of the User.")
        .multi()
        .subs(GENERIC_MV_SUBS),
    AttrDef::new(
        "x509Certificates",
        T::Complex,
        "X.509 certificates of the User.",
    )
    .multi()
    .subs(CERT_SUBS),
];

const MEMBER_SUBS: &[AttrDef] = &[
    s("value", "Identifier of the member of this Group.")
        .exact()
        .mutability(M::Immutable),
    AttrDef::new("$ref", T::Reference, "The URI of the member resource.")
        .refs(&["User", "Group"])
        .mutability(M::Immutable),
    // `display` is not in the RFC's Group schema, but Okta sends it on every member and
    // strict validators that reject it break Okta's group push (SimpleIdServer/SimpleIdServer#292).
    s("display", "The member's userName or displayName.").mutability(M::ReadOnly),
    s("type", "The type of member.")
        .canon(&["User", "Group"])
        .mutability(M::Immutable),
];

/// RFC 7643 §4.2 Group attributes.
pub const GROUP_ATTRS: &[AttrDef] = &[
    s("displayName", "A human-readable name for the Group.")
        .required()
        .unique(Uniqueness::Server),
    AttrDef::new("members", T::Complex, "A list of members of the Group.")
        .multi()
        .subs(MEMBER_SUBS),
];

const MANAGER_SUBS: &[AttrDef] = &[
    s(
        "value",
        "The id of the SCIM resource representing the User's manager.",
    ),
    AttrDef::new(
        "$ref",
        T::Reference,
        "The URI of the manager's User resource.",
    )
    .refs(&["User"]),
    s("displayName", "The displayName of the User's manager.").mutability(M::ReadOnly),
];

/// RFC 7643 §4.3 enterprise User extension attributes.
pub const ENTERPRISE_ATTRS: &[AttrDef] = &[
    s(
        "employeeNumber",
        "Numeric or alphanumeric identifier assigned to a person.",
    ),
    s("costCenter", "Identifies the name of a cost center."),
    s("organization", "Identifies the name of an organization."),
    s("division", "Identifies the name of a division."),
    s("department", "Identifies the name of a department."),
    AttrDef::new("manager", T::Complex, "The User's manager.").subs(MANAGER_SUBS),
];

/// The reference server's custom extension (see [`CUSTOM_EXTENSION_URN`]): single-valued
/// strings, the only kind Entra maps to a custom SCIM attribute outside gallery apps (CUST:
/// "Custom attributes can't be referential attributes, multi-value or complex-typed").
pub const CUSTOM_EXTENSION_ATTRS: &[AttrDef] = &[
    s("CustomAttribute", "Microsoft's example custom attribute."),
    s(
        "tag",
        "A free-form tag (Microsoft's example: extensionAttribute1 → tag).",
    ),
    s("costCode", "A cost code the app bills by."),
    s("badgeNumber", "The person's badge number."),
];

const META_SUBS: &[AttrDef] = &[
    s(
        "resourceType",
        "The name of the resource type of the resource.",
    )
    .exact()
    .mutability(M::ReadOnly),
    AttrDef::new("created", T::DateTime, "When the resource was added.").mutability(M::ReadOnly),
    AttrDef::new(
        "lastModified",
        T::DateTime,
        "When the resource was last updated.",
    )
    .mutability(M::ReadOnly),
    AttrDef::new("location", T::Reference, "The URI of the resource.")
        .exact()
        .mutability(M::ReadOnly),
    s("version", "The version (ETag) of the resource.")
        .exact()
        .mutability(M::ReadOnly),
];

/// RFC 7643 §3.1 common attributes, present on every resource but not listed in `/Schemas`.
pub const COMMON_ATTRS: &[AttrDef] = &[
    s("id", "Unique identifier assigned by the service provider.")
        .exact()
        .mutability(M::ReadOnly)
        .returned(Returned::Always)
        .unique(Uniqueness::Server),
    s(
        "externalId",
        "Identifier assigned by the provisioning client.",
    )
    .exact(),
    AttrDef::new("meta", T::Complex, "Resource metadata.")
        .mutability(M::ReadOnly)
        .subs(META_SUBS),
];

pub static USER_SCHEMA: SchemaDef = SchemaDef {
    id: USER_URN,
    name: "User",
    description: "User Account",
    attributes: USER_ATTRS,
};
pub static GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: GROUP_URN,
    name: "Group",
    description: "Group",
    attributes: GROUP_ATTRS,
};
pub static ENTERPRISE_SCHEMA: SchemaDef = SchemaDef {
    id: ENTERPRISE_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: ENTERPRISE_ATTRS,
};

pub static CUSTOM_EXTENSION_SCHEMA: SchemaDef = SchemaDef {
    id: CUSTOM_EXTENSION_URN,
    name: "CustomExtensionName",
    description: "Custom User attributes",
    attributes: CUSTOM_EXTENSION_ATTRS,
};

/// All resource schemas the reference server knows (its entitlement catalogue adds its own in
/// `/Schemas`).
pub fn all_schemas() -> [&'static SchemaDef; 4] {
    [
        &USER_SCHEMA,
        &GROUP_SCHEMA,
        &ENTERPRISE_SCHEMA,
        &CUSTOM_EXTENSION_SCHEMA,
    ]
}

/// Whether `urn` is an extension other than the RFC's enterprise one (a "custom" extension, in
/// the IdPs' words).
pub fn is_custom_extension(urn: &str) -> bool {
    let u = urn.to_ascii_lowercase();
    u.starts_with("urn:") && u.contains(":extension:") && !u.eq_ignore_ascii_case(ENTERPRISE_URN)
}

/// A schema by URN (case-insensitive, RFC 7643 §2.1 applies to URNs used as attribute
/// prefixes too).
pub fn schema_by_urn(urn: &str) -> Option<&'static SchemaDef> {
    all_schemas()
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(urn))
}

/// The kind of resource an attribute lookup is made against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    pub fn core(self) -> &'static SchemaDef {
        match self {
            ResourceKind::User => &USER_SCHEMA,
            ResourceKind::Group => &GROUP_SCHEMA,
        }
    }
    /// Extension schemas allowed on this resource type.
    pub fn extensions(self) -> &'static [&'static SchemaDef] {
        static USER_EXT: [&SchemaDef; 2] = [&ENTERPRISE_SCHEMA, &CUSTOM_EXTENSION_SCHEMA];
        match self {
            ResourceKind::User => &USER_EXT,
            ResourceKind::Group => &[],
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
        }
    }

    /// Looks up a top-level attribute definition. `urn` is the schema prefix from an
    /// urn-qualified path, or `None` for the core schema; common attributes are always found.
    pub fn attr(self, urn: Option<&str>, name: &str) -> Option<&'static AttrDef> {
        match urn {
            None => self.core().attr(name).or_else(|| common_attr(name)),
            Some(u) if u.eq_ignore_ascii_case(self.core().id) => {
                self.core().attr(name).or_else(|| common_attr(name))
            }
            Some(u) => self
                .extensions()
                .iter()
                .find(|s| s.id.eq_ignore_ascii_case(u))
                .and_then(|s| s.attr(name)),
        }
    }

    /// The extension schema with this URN, if this resource type allows it.
    pub fn extension(self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions()
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }
}

fn common_attr(name: &str) -> Option<&'static AttrDef> {
    COMMON_ATTRS
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_exact_rules() {
        let u = ResourceKind::User;
        assert!(!u
            .attr(None, "USERNAME")
            .map(|a| a.case_exact)
            .unwrap_or(true));
        assert!(u.attr(None, "id").map(|a| a.case_exact).unwrap_or(false));
        assert!(u
            .attr(None, "externalId")
            .map(|a| a.case_exact)
            .unwrap_or(false));
        assert!(u.attr(Some(ENTERPRISE_URN), "manager").is_some());
        assert!(u.attr(Some(USER_URN), "userName").is_some());
    }
}
