//! The users list's view and its URL (the filter URL), which holds the
//! whole view so it can be shared and survives a reload, and says which
//! users a bulk action or an export acts on: `?segment=&active=&q=&sort=
//! &deactivated=1&prop.<name>[:op]=&cols=&after=` (property filters and
//! columns: see [`crate::model::property_filter`]).
//!
//! A form sent without JavaScript adds to the view with the fields the
//! builders name (`pf.name`, `pf.op`, `pf.value`: one property filter;
//! `col.add`: one column); the page's links always use the canonical form.

use crate::model::property_filter::{
    columns_from_param, filters_query, PropertyFilter, PropertyOp, COLUMNS_PARAM, MAX_COLUMNS, MAX_PROPERTY_FILTERS,
};
use crate::model::users::ActiveWithin;
use crate::model::UserSort;

#[cfg(feature = "ssr")]
mod scope;
#[cfg(feature = "ssr")]
pub use scope::{decode_cursor, encode_cursor, position_of, resolve_scope};

/// The view a URL describes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListView {
    pub search: String,
    pub sort: UserSort,
    pub deactivated: bool,
    /// Only the members of this segment (by name).
    pub segment: Option<String>,
    /// Only the users active within this window (`?active=5m`).
    pub active: Option<ActiveWithin>,
    /// Only the users meeting every one of these.
    pub properties: Vec<PropertyFilter>,
    /// Why a property filter of the URL is not one (the page says so).
    pub bad_property: Option<String>,
    /// Property columns shown beside the fixed ones.
    pub columns: Vec<String>,
    pub after: Option<String>,
}

/// The users list filtered to the members of the segment `name` (where a
/// segment chip leads).
pub fn segment_members_href(name: &str) -> String {
    ListView { segment: Some(name.to_string()), ..Default::default() }.href()
}

impl ListView {
    /// The view of a URL's query parameters, in their order.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> ListView {
        let mut view = ListView::default();
        let (mut added_name, mut added_op, mut added_value) = (None, PropertyOp::Is, String::new());
        for (key, value) in pairs {
            // A plain form (no JavaScript) sends spaces as `+`, which the
            // router leaves as is; a typed `+` only separates words anyway.
            let spaced = || value.replace('+', " ");
            match key {
                "q" => view.search = spaced(),
                "sort" => view.sort = UserSort::from_param(value),
                "deactivated" => view.deactivated = value == "1",
                "segment" => view.segment = Some(spaced()).filter(|s| !s.trim().is_empty()),
                "active" => view.active = ActiveWithin::from_param(value),
                "after" => view.after = Some(value.to_string()).filter(|a| !a.is_empty()),
                COLUMNS_PARAM => view.columns = columns_from_param(value),
                "col.add" => {
                    let mut columns = view.columns.join(",");
                    columns.push(',');
                    columns.push_str(value.trim());
                    view.columns = columns_from_param(&columns);
                }
                "pf.name" => added_name = Some(value.trim().to_string()).filter(|n| !n.is_empty()),
                "pf.op" => added_op = PropertyOp::from_param(value).unwrap_or_default(),
                "pf.value" => added_value = spaced(),
                _ => {
                    if let Some(filter) = PropertyFilter::from_param(key, &spaced()) {
                        view.add_property(filter);
                    }
                }
            }
        }
        if let Some(name) = added_name {
            let value = if added_op.takes_value() { added_value } else { String::new() };
            view.add_property(PropertyFilter { name, op: added_op, value }.named());
        }
        view
    }

    fn add_property(&mut self, filter: Result<PropertyFilter, String>) {
        match filter {
            Ok(_) if self.properties.len() >= MAX_PROPERTY_FILTERS => {
                self.bad_property = Some(format!("A view filters by at most {MAX_PROPERTY_FILTERS} properties."));
            }
            Ok(filter) if !self.properties.contains(&filter) => self.properties.push(filter),
            Ok(_) => {}
            Err(message) => self.bad_property = Some(message),
        }
    }

    /// The view's URL parameters, in their canonical order.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = Vec::new();
        if let Some(segment) = &self.segment {
            params.push(("segment".into(), segment.clone()));
        }
        if let Some(active) = self.active {
            params.push(("active".into(), active.as_param().to_string()));
        }
        params.extend(self.properties.iter().map(PropertyFilter::to_param));
        if !self.search.is_empty() {
            params.push(("q".into(), self.search.clone()));
        }
        if self.sort != UserSort::default() {
            params.push(("sort".into(), self.sort.as_param().to_string()));
        }
        if self.deactivated {
            params.push(("deactivated".into(), "1".into()));
        }
        if !self.columns.is_empty() {
            params.push((COLUMNS_PARAM.into(), self.columns.join(",")));
        }
        if let Some(after) = &self.after {
            params.push(("after".into(), after.clone()));
        }
        params
    }

    pub fn href(&self) -> String {
        let params = self.params();
        if params.is_empty() {
            return "/users".into();
        }
        // Spaces as %20: the router decodes percent-escapes but not `+`.
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish().replace('+', "%20");
        format!("/users?{query}")
    }

    /// The property filters in the form the list's server function takes.
    pub fn properties_query(&self) -> String {
        filters_query(&self.properties)
    }

    /// Which users the view lists (its page and columns aside); why not,
    /// when a property filter of its URL is not one.
    pub fn filter(&self) -> Result<crate::model::UserFilter, String> {
        if let Some(message) = &self.bad_property {
            return Err(message.clone());
        }
        Ok(crate::model::UserFilter {
            search: self.search.clone(),
            sort: self.sort,
            include_deactivated: self.deactivated,
            segment: self.segment.clone(),
            active: self.active,
            properties: self.properties.clone(),
        })
    }

    /// The view's query without its page (`segment=VIP&q=ana`): what a bulk
    /// action over "all matching" is sent.
    pub fn selection_query(&self) -> String {
        let view = ListView { after: None, columns: Vec::new(), ..self.clone() };
        view.href().split_once('?').map(|(_, query)| query.to_string()).unwrap_or_default()
    }

    /// The view of a query string (`segment=VIP&q=ana`).
    pub fn from_query(query: &str) -> ListView {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        ListView::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The view from its first page (after a filter changed).
    pub fn restarted(self) -> ListView {
        ListView { after: None, bad_property: None, ..self }
    }

    /// Whether another property column fits.
    pub fn has_room_for_a_column(&self) -> bool {
        self.columns.len() < MAX_COLUMNS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(query: &str) -> ListView {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        ListView::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    #[test]
    fn the_url_holds_the_whole_view() {
        let href = "/users?segment=VIP%20users&active=5m&prop.plan=pro&prop.age%3Agt=30&q=ana&sort=name&deactivated=1&cols=plan%2Cage";
        let v = view(href.trim_start_matches("/users?"));
        assert_eq!(v.properties.len(), 2);
        assert_eq!(v.columns, ["plan", "age"]);
        assert_eq!(v.segment.as_deref(), Some("VIP users"));
        assert_eq!(v.href(), href);
    }

    #[test]
    fn a_plain_form_adds_a_filter_and_a_column() {
        let v = view("q=ana&pf.name=plan&pf.op=not&pf.value=free+trial&cols=a&col.add=b");
        assert_eq!(
            v.properties,
            [PropertyFilter { name: "plan".into(), op: PropertyOp::IsNot, value: "free trial".into() }]
        );
        assert_eq!(v.columns, ["a", "b"]);
        assert_eq!(view("pf.name=&pf.value=x").properties, []);
        assert!(view("prop.$age:gt=3").bad_property.unwrap().contains("reserved"));
    }
}
