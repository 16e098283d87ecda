//! OData query options for lists: `$top`, `$skiptoken` paging with `@odata.nextLink`,
//! `$select`, `$count`, and the `$filter` forms admins' scripts use. Anything else is a
//! clear 400 rather than silently ignored.

use crate::AppState;
use crate::error::GraphError;
use axum::extract::OriginalUri;
use axum::http::StatusCode;
use latchkey_core::directory::{FilterOp, Page, UserField, UserFilter};
use serde_json::Value;

/// Parsed query options.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub page: Page,
    pub select: Option<Vec<String>>,
    pub filter: Option<String>,
    pub count: bool,
}

fn unsupported(msg: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", msg)
}

/// The options a list endpoint accepts; `allow_filter` says whether it supports `$filter`.
pub fn parse_list_query(raw: Option<&str>, allow_filter: bool) -> Result<ListQuery, GraphError> {
    let mut q = ListQuery::default();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        // Beta accepts options without the `$`; accepting both everywhere is harmless.
        let name = key.strip_prefix('$').unwrap_or(&key).to_ascii_lowercase();
        match name.as_str() {
            "top" => {
                let top: u32 = value.parse().map_err(|_| {
                    GraphError::bad_request(format!(
                        "Invalid value '{}' for $top: it must be a whole number from 1 to {}.",
                        value.chars().take(20).collect::<String>(),
                        Page::MAX_TOP
                    ))
                })?;
                if !(1..=Page::MAX_TOP).contains(&top) {
                    return Err(GraphError::bad_request(format!(
                        "Invalid value '{top}' for $top: it must be from 1 to {}.",
                        Page::MAX_TOP
                    )));
                }
                q.page.top = top;
            }
            "skiptoken" | "skip" => {
                q.page.skip = value
                    .parse()
                    .map_err(|_| GraphError::bad_request("The $skiptoken is not valid; follow @odata.nextLink as given."))?;
            }
            "select" => {
                let props: Vec<String> = value.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
                if props.is_empty()
                    || props
                        .iter()
                        .any(|p| !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '@' || c == '.'))
                {
                    return Err(GraphError::bad_request("$select must list property names separated by commas."));
                }
                q.select = Some(props);
            }
            "filter" if allow_filter => q.filter = Some(value.into_owned()),
            "count" => {
                q.count = match value.as_ref() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(GraphError::bad_request("$count must be true or false.")),
                }
            }
            "filter" | "orderby" | "expand" | "search" | "apply" | "compute" => {
                return Err(unsupported(format!("The query option ${name} is not supported on this resource.")));
            }
            // `$format`, and options without `$` that are not OData, are left alone.
            _ => {}
        }
    }
    Ok(q)
}

impl ListQuery {
    /// Keeps only the selected properties (plus `id` and annotations) of each item.
    pub fn apply_select(&self, items: &mut [Value], known: &[&str]) -> Result<(), GraphError> {
        let Some(select) = &self.select else { return Ok(()) };
        if let Some(bad) = select.iter().find(|p| !known.iter().any(|k| k.eq_ignore_ascii_case(p))) {
            return Err(GraphError::bad_request(format!(
                "Could not find a property named '{bad}' on this type."
            )));
        }
        for item in items {
            if let Value::Object(map) = item {
                map.retain(|k, _| k == "id" || k.starts_with('@') || select.iter().any(|s| s.eq_ignore_ascii_case(k)));
            }
        }
        Ok(())
    }

    /// The absolute link to the next page: the same request with `$skiptoken` moved on.
    #[must_use]
    pub fn next_link(&self, state: &AppState, uri: &OriginalUri, more: bool) -> Option<String> {
        if !more {
            return None;
        }
        let next = self.page.skip + u64::from(self.page.top);
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
            let bare = k.strip_prefix('$').unwrap_or(&k).to_ascii_lowercase();
            if bare != "skiptoken" && bare != "skip" {
                ser.append_pair(&k, &v);
            }
        }
        ser.append_pair("$skiptoken", &next.to_string());
        Some(format!("{}{}?{}", state.public_url, uri.path(), ser.finish()))
    }
}

/// Parses user filters: clauses joined by `and`, each `prop eq 'v'` or
/// `startswith(prop,'v')`, on userPrincipalName, displayName, userType or mail.
pub fn parse_user_filter(raw: &str) -> Result<Vec<UserFilter>, GraphError> {
    let mut out = Vec::new();
    let mut rest = raw.trim();
    loop {
        let (clause, tail) = parse_clause(rest)?;
        out.push(clause);
        let t = tail.trim_start();
        if t.is_empty() {
            return Ok(out);
        }
        let lower = t.to_ascii_lowercase();
        if !lower.starts_with("and ") {
            return Err(unsupported(
                "Only 'eq' and 'startswith' clauses joined by 'and' are supported in $filter.",
            ));
        }
        rest = t[4..].trim_start();
        if out.len() >= 8 {
            return Err(unsupported("$filter has too many clauses."));
        }
    }
}

fn field(name: &str) -> Result<UserField, GraphError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "userprincipalname" => Ok(UserField::UserPrincipalName),
        "displayname" => Ok(UserField::DisplayName),
        "usertype" => Ok(UserField::UserType),
        "mail" => Ok(UserField::Mail),
        other => Err(unsupported(format!(
            "Filtering on '{}' is not supported; use userPrincipalName, displayName, userType or mail.",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

/// Reads a single-quoted OData string (`''` is a quote) and returns it with what follows.
fn quoted(s: &str) -> Result<(String, &str), GraphError> {
    let s = s.trim_start();
    let body = s
        .strip_prefix('\'')
        .ok_or_else(|| unsupported("$filter values must be single-quoted strings."))?;
    let mut value = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|(_, n)| *n) == Some('\'') {
                chars.next();
                value.push('\'');
            } else {
                return Ok((value, &body[i + 1..]));
            }
        } else {
            value.push(c);
        }
    }
    Err(unsupported("A $filter string is not closed."))
}

fn parse_clause(s: &str) -> Result<(UserFilter, &str), GraphError> {
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("startswith(") {
        let inner = &s["startswith(".len()..];
        let comma = inner
            .find(',')
            .ok_or_else(|| unsupported("startswith needs a property and a value."))?;
        let f = field(&inner[..comma])?;
        let (value, after) = quoted(&inner[comma + 1..])?;
        let after = after
            .trim_start()
            .strip_prefix(')')
            .ok_or_else(|| unsupported("startswith(...) is not closed."))?;
        return Ok((
            UserFilter {
                field: f,
                op: FilterOp::StartsWith,
                value,
            },
            after,
        ));
    }
    let mut parts = s.splitn(3, char::is_whitespace);
    let (name, op, rest) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if !op.eq_ignore_ascii_case("eq") {
        return Err(unsupported(format!(
            "The $filter operator '{}' is not supported; use eq or startswith.",
            op.chars().take(20).collect::<String>()
        )));
    }
    let f = field(name)?;
    let (value, after) = quoted(rest)?;
    Ok((
        UserFilter {
            field: f,
            op: FilterOp::Eq,
            value,
        },
        after,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_admins_use_are_understood() {
        let f = parse_user_filter("userPrincipalName eq 'O''Brien@contoso.test'").unwrap();
        assert_eq!(
            f,
            vec![UserFilter {
                field: UserField::UserPrincipalName,
                op: FilterOp::Eq,
                value: "O'Brien@contoso.test".into()
            }]
        );
        let f = parse_user_filter("startswith(displayName,'Ali') and userType eq 'Guest'").unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].op, FilterOp::StartsWith);
        assert_eq!(f[1].field, UserField::UserType);
    }

    #[test]
    fn unsupported_filters_are_refused() {
        for bad in [
            "jobTitle eq 'x'",
            "displayName ne 'x'",
            "displayName eq x",
            "startswith(displayName,'x'",
            "displayName eq 'x' or mail eq 'y'",
            "displayName eq 'x",
        ] {
            assert!(parse_user_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn top_must_be_between_one_and_999() {
        assert!(parse_list_query(Some("$top=0"), false).is_err());
        assert!(parse_list_query(Some("$top=1000"), false).is_err());
        assert!(parse_list_query(Some("$top=abc"), false).is_err());
        assert_eq!(
            parse_list_query(Some("$top=5&$skiptoken=10"), false).unwrap().page,
            Page { top: 5, skip: 10 }
        );
        assert!(parse_list_query(Some("$filter=x"), false).is_err());
        assert!(parse_list_query(Some("$orderby=x"), true).is_err());
    }
}
