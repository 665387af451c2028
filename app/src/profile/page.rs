//! `/users/{id}`: everything about one user, in a responsive grid of boxes.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::access_log::{access_log_resource, AccessLogBox, AccessLogResource};
use super::avatar::Avatar;
use super::get_profile;
use super::lifecycle_ui::{DeactivatedBanner, LifecycleActions};
use super::options_menu::OptionsMenu;
use super::push_mail::{PushMail, PushMailActions};
use super::{DeleteUser, GeneratePushMail, RevokePushMail, SetUserActive};
use crate::activity::model::TimelinePage;
use crate::activity::{
    load_activity, recent_activity, ActivityData, EventSearch, LatestActivity, RecentResource, SearchView,
};
use crate::devices::{DevicesBox, MapBox};
use crate::layout::{ErrorMessage, MeResource};
use crate::live::provide_live;
use crate::merging::{MergeUser, MergedBanners, UndoMerge};
use crate::messages::{MessagesBox, MessagesState};
use crate::model::UserProfile;
use crate::notes::{AlsoViewing, NotesBox, NotesReader, NotesState};
use crate::properties::{PropertiesBox, PropertiesState};
use crate::segments::SegmentsBox;
use crate::ui::LocalTime;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let params = use_params_map();
    let user_id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    // Mutations of the profile are actions; the profile reloads when one
    // completes (keyed on their versions), as leptos' todo example does.
    let generate = ServerAction::<GeneratePushMail>::new();
    let revoke = ServerAction::<RevokePushMail>::new();
    let lifecycle = LifecycleActions {
        set_active: ServerAction::<SetUserActive>::new(),
        delete: ServerAction::<DeleteUser>::new(),
        merge: ServerAction::<MergeUser>::new(),
        undo_merge: ServerAction::<UndoMerge>::new(),
    };
    let (set_active, undo_merge) = (lifecycle.set_active, lifecycle.undo_merge);
    let profile = Resource::new(
        move || {
            let versions = (generate.version().get(), revoke.version().get(), set_active.version().get());
            (user_id.get(), versions, undo_merge.version().get())
        },
        |(id, _, _)| async move {
            match id {
                Some(id) => get_profile(id).await,
                None => Err(crate::error::AppError::NotFound("There is no user at this address.".into())),
            }
        },
    );
    let me = expect_context::<MeResource>();
    let push_mail = PushMailActions { generate, revoke };
    // Every box's resources are created here (not in the boxes): see
    // `ProfileBoxes` and `activity::load_activity`.
    let query = use_query_map();
    let search = Memo::new(move |_| query.with(|query| SearchView::from_query(|name| query.get(name))));
    let restored = Memo::new(move |_| query.with(|query| query.get("unmerged").and_then(|id| id.parse::<i64>().ok())));
    let recent: RecentResource = Resource::new(
        move || user_id.get(),
        |id| async move {
            match id {
                Some(id) => recent_activity(id).await,
                None => Ok(Vec::new()),
            }
        },
    );
    let activity = Resource::new(
        move || (user_id.get(), search.get()),
        |(id, search)| async move {
            match id {
                Some(id) => load_activity(id, search).await,
                None => ActivityData::Timeline(Ok(TimelinePage { entries: Vec::new(), next_cursor: None })),
            }
        },
    );
    let messages = MessagesState::new(user_id);
    let access_log = access_log_resource(user_id);
    let properties = PropertiesState::new(user_id);
    let notes = NotesState::new(user_id);
    let boxes = ProfileBoxes { search, recent, activity, messages, access_log, properties, notes };

    view! {
        <section class="page profile-page">
            <nav class="breadcrumbs" aria-label="Breadcrumb">
                <A href="/users">"Users"</A>
            </nav>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading profile…"</p> }>
                {move || Suspend::new(async move {
                    let me = me.await.ok();
                    let can_edit = me.as_ref().is_some_and(|me| me.can_edit());
                    let reader = NotesReader { can_edit, account_id: me.map_or(0, |me| me.id) };
                    match profile.await {
                        Ok(profile) => {
                            view! { <ProfileGrid profile can_edit reader push_mail lifecycle boxes restored /> }
                                .into_any()
                        }
                        Err(error) => view! { <Title text="User not found" /> <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The boxes' resources and state, made by the page before its first
/// `Suspend`: on the server the grid below may render twice, and resources
/// made inside it would get new serialization ids the browser does not know.
#[derive(Clone, Copy)]
struct ProfileBoxes {
    search: Memo<SearchView>,
    recent: RecentResource,
    activity: Resource<ActivityData>,
    messages: MessagesState,
    access_log: AccessLogResource,
    properties: PropertiesState,
    notes: NotesState,
}

#[component]
fn ProfileGrid(
    profile: UserProfile,
    can_edit: bool,
    reader: NotesReader,
    push_mail: PushMailActions,
    lifecycle: LifecycleActions,
    boxes: ProfileBoxes,
    restored: Memo<Option<i64>>,
) -> impl IntoView {
    let user = profile.user;
    // One live stream for the boxes below (activity and the map; messages next).
    provide_live(user.id, profile.live_after);
    let name = user.display_name().to_string();
    view! {
        <Title text=name.clone() />
        <header class="page-header">
            <h1>{name.clone()}</h1>
            <OptionsMenu user=user.clone() can_edit lifecycle />
            <AlsoViewing />
        </header>
        {(!user.active).then(|| view! { <DeactivatedBanner user_id=user.id can_edit actions=lifecycle /> })}
        <MergedBanners kept_id=user.id merges=profile.merges can_edit undo=lifecycle.undo_merge restored=restored.into() />
        <div class="profile-grid">
            <section class="box user-box" aria-labelledby="user-box-title">
                <h2 id="user-box-title">"User Profile"</h2>
                <div class="user-box-body">
                    <Avatar name=name.clone() gravatar_url=profile.gravatar_url />
                    <dl class="facts">
                        <dt>"userID"</dt>
                        <dd class="mono">{user.external_id.clone()}</dd>
                        <dt>"userName"</dt>
                        <dd>{user.user_name.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Email"</dt>
                        <dd>{user.email.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Created"</dt>
                        <dd><LocalTime ms=user.created_at /></dd>
                        <dt>"Last seen"</dt>
                        <dd>
                            {match user.last_seen_at {
                                Some(ms) => view! { <LocalTime ms /> }.into_any(),
                                None => "never".into_any(),
                            }}
                        </dd>
                        <dt>"State"</dt>
                        <dd>
                            {if user.active {
                                view! { <span class="state active">"Active"</span> }.into_any()
                            } else {
                                view! { <span class="state deactivated">"Deactivated"</span> }.into_any()
                            }}
                        </dd>
                    </dl>
                </div>
                <PushMail user_id=user.id address=profile.push_mail can_edit actions=push_mail />
            </section>
            <PropertiesBox user_id=user.id can_edit initial=profile.properties state=boxes.properties />
            <SegmentsBox user_id=user.id can_edit initial=profile.segments />
            <DevicesBox devices=profile.devices.clone() />
            <MapBox devices=profile.devices />
            <LatestActivity recent=boxes.recent />
            <MessagesBox user_id=user.id state=boxes.messages />
            <NotesBox user_id=user.id reader state=boxes.notes />
            <AccessLogBox entries=boxes.access_log />
            <EventSearch user_id=user.id search=boxes.search data=boxes.activity />
        </div>
    }
    .into_any()
}
