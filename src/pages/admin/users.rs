//! 账号管理: the bureau's accounts — add, edit (name, role, team, 执法证号), disable and enable,
//! reset a password, and see and end the phones signed in (a lost phone).

use leptos::prelude::*;
use zhicha_core::admin::{AdminSession, AdminUser, NewUser, UserUpdate};
use zhicha_core::ids::{OrgId, UserId};
use zhicha_core::model::{OrgUnit, Role};
use zhicha_core::protocol::new_password_problem;

use super::{AdminNav, call, notice, org_name, org_options, write};
use crate::pages::Page;
use crate::sync::admin as api;

const ROLES: [Role; 3] = [Role::Inspector, Role::Leader, Role::Admin];

fn role_value(role: Role) -> &'static str {
    match role {
        Role::Inspector => "inspector",
        Role::Leader => "leader",
        Role::Admin => "admin",
    }
}

fn parse_role(value: &str) -> Option<Role> {
    ROLES.into_iter().find(|r| role_value(*r) == value)
}

fn role_options(selected: Role) -> impl IntoView + use<> {
    ROLES
        .into_iter()
        .map(|role| {
            view! { <option value=role_value(role) selected=role == selected>{role.label_zh()}</option> }
        })
        .collect_view()
}

/// A password the admin sets is checked as the user's own would be (no old one to compare).
fn password_problem(password: &str) -> Option<&'static str> {
    new_password_problem(password, "")
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let data = LocalResource::new(move || {
        reload.track();
        async move {
            let users = call(|t| async move { api::users(&t).await }).await?;
            let orgs = call(|t| async move { api::orgs(&t).await }).await?;
            Ok::<_, String>((users, orgs))
        }
    });
    let selected = RwSignal::new(None::<UserId>);
    let message = RwSignal::new(None::<(bool, String)>);
    let done = Callback::new(move |result: (bool, String)| {
        message.set(Some(result));
        reload.update(|n| *n += 1);
    });
    view! {
        <section class="page page--admin">
            <h1 class="page__title">"系统管理 · 账号"</h1>
            <AdminNav current=Page::AdminUsers />
            {move || notice(message.get())}
            <Transition fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok((users, orgs)) => {
                        let chosen = selected
                            .get()
                            .and_then(|id| users.iter().find(|u| u.id == id).cloned());
                        view! {
                            {chosen.map(|user| view! {
                                <UserPanel user=user orgs=orgs.clone() done=done
                                    close=Callback::new(move |()| selected.set(None)) />
                            })}
                            {users_table(&users, &orgs, selected)}
                            <NewUserForm orgs=orgs done=done />
                        }
                        .into_any()
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

fn users_table(
    users: &[AdminUser],
    orgs: &[OrgUnit],
    selected: RwSignal<Option<UserId>>,
) -> impl IntoView + use<> {
    let rows = users
        .iter()
        .map(|user| {
            let id = user.id;
            let status = if user.active {
                view! { <span class="badge badge--ok">"启用"</span> }.into_any()
            } else {
                view! { <span class="badge badge--error">"已停用"</span> }.into_any()
            };
            view! {
                <tr data-username=user.username.clone()>
                    <td data-label="用户名">{user.username.clone()}</td>
                    <td data-label="姓名">{user.display_name.clone()}</td>
                    <td data-label="角色">{user.role.label_zh()}
                        {user.superuser.then_some("（全区）")}</td>
                    <td data-label="单位">{org_name(orgs, user.org_id)}</td>
                    <td data-label="执法证号">{user.certificate_no.clone().unwrap_or_default()}</td>
                    <td data-label="状态">{status}</td>
                    <td data-label="">
                        <button class="button button--small button--secondary" type="button"
                            aria-label=format!("管理 {}", user.username)
                            on:click=move |_| selected.set(Some(id))>"管理"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="grid">
                <thead><tr>
                    <th>"用户名"</th><th>"姓名"</th><th>"角色"</th><th>"单位"</th>
                    <th>"执法证号"</th><th>"状态"</th><th></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// A labelled text input bound to a signal.
fn text_input(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    kind: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span class="field__label">{label}</span>
            <input class="field__input" name=name type=kind autocomplete="off"
                prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

#[component]
fn NewUserForm(orgs: Vec<OrgUnit>, done: Callback<(bool, String)>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let certificate = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Inspector);
    let org = RwSignal::new(orgs.first().map(|o| o.id));
    let error = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(org_id) = org.get_untracked() else {
            error.set(Some((false, "请选择所属单位".to_owned())));
            return;
        };
        let pass = password.get_untracked();
        if let Some(problem) = password_problem(&pass) {
            error.set(Some((false, problem.to_owned())));
            return;
        }
        let user = NewUser {
            username: username.get_untracked().trim().to_owned(),
            display_name: display_name.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
            org_id,
            certificate_no: Some(certificate.get_untracked().trim().to_owned())
                .filter(|c| !c.is_empty()),
            password: pass,
        };
        let work = call(|t| async move { api::create_user(&t, &user).await });
        write(busy, error, work, move |created| {
            for field in [username, display_name, certificate, password] {
                field.set(String::new());
            }
            done.run((true, format!("已新增账号 {}", created.username)));
        });
    };
    view! {
        <section class="card" aria-label="新增账号">
            <h2 class="card__title">"新增账号"</h2>
            <form class="form" on:submit=submit>
                {text_input("用户名（登录用）", "new-username", username, "text")}
                {text_input("姓名", "new-display-name", display_name, "text")}
                <label class="field">
                    <span class="field__label">"角色"</span>
                    <select class="field__input" name="new-role"
                        on:change=move |ev| { if let Some(r) = parse_role(&event_target_value(&ev)) { role.set(r) } }>
                        {role_options(Role::Inspector)}
                    </select>
                </label>
                <label class="field">
                    <span class="field__label">"所属单位"</span>
                    <select class="field__input" name="new-org"
                        on:change=move |ev| org.set(event_target_value(&ev).parse::<OrgId>().ok())>
                        {org_options(&orgs, orgs.first().map(|o| o.id))}
                    </select>
                </label>
                {text_input("执法证号（可不填）", "new-cert", certificate, "text")}
                {text_input("初始密码（至少 8 个字符）", "new-password", password, "password")}
                <button class="button" type="submit" disabled=busy>"新增账号"</button>
            </form>
            {move || notice(error.get())}
        </section>
    }
}

/// One account: edit, disable or enable, reset the password, the phones signed in.
#[component]
fn UserPanel(
    user: AdminUser,
    orgs: Vec<OrgUnit>,
    done: Callback<(bool, String)>,
    close: Callback<()>,
) -> impl IntoView {
    let id = user.id;
    let display_name = RwSignal::new(user.display_name.clone());
    let certificate = RwSignal::new(user.certificate_no.clone().unwrap_or_default());
    let role = RwSignal::new(user.role);
    let org = RwSignal::new(user.org_id);
    let new_password = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let confirm_disable = RwSignal::new(false);
    let sessions_reload = RwSignal::new(0u32);
    let sessions = LocalResource::new(move || {
        sessions_reload.track();
        async move { call(|t| async move { api::sessions(&t, id).await }).await }
    });
    let original = user.clone();
    let run = move |action: Action| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        message.set(None);
        leptos::task::spawn_local(async move {
            let result = action.perform(id).await;
            busy.set(false);
            match result {
                Ok((text, reload_list)) => {
                    if reload_list {
                        done.run((true, text));
                    } else {
                        message.set(Some((true, text)));
                    }
                    sessions_reload.update(|n| *n += 1);
                }
                Err(e) => message.set(Some((false, e))),
            }
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = display_name.get_untracked().trim().to_owned();
        let cert = certificate.get_untracked().trim().to_owned();
        let update = UserUpdate {
            display_name: (name != original.display_name).then_some(name),
            role: (role.get_untracked() != original.role).then(|| role.get_untracked()),
            org_id: (org.get_untracked() != original.org_id).then(|| org.get_untracked()),
            certificate_no: (Some(&cert) != original.certificate_no.as_ref()
                && !(cert.is_empty() && original.certificate_no.is_none()))
            .then_some(cert),
            active: None,
        };
        if update == UserUpdate::default() {
            message.set(Some((false, "没有需要保存的修改".to_owned())));
            return;
        }
        run(Action::Update(update, "已保存账号信息".to_owned()));
    };
    let active = user.active;
    let username = user.username.clone();
    view! {
        <section class="card admin-user" aria-label=format!("账号 {}", user.username)>
            <h2 class="card__title">{format!("账号：{}（{}）", user.username, user.display_name)}</h2>
            <p class="muted">{if active { "状态：启用" } else { "状态：已停用（不能登录）" }}</p>
            <form class="form" on:submit=save>
                {text_input("姓名", "edit-display-name", display_name, "text")}
                <label class="field">
                    <span class="field__label">"角色"</span>
                    <select class="field__input" name="edit-role"
                        on:change=move |ev| { if let Some(r) = parse_role(&event_target_value(&ev)) { role.set(r) } }>
                        {role_options(user.role)}
                    </select>
                </label>
                <label class="field">
                    <span class="field__label">"所属单位（执法队）"</span>
                    <select class="field__input" name="edit-org"
                        on:change=move |ev| { if let Ok(o) = event_target_value(&ev).parse::<OrgId>() { org.set(o) } }>
                        {org_options(&orgs, Some(user.org_id))}
                    </select>
                </label>
                {text_input("执法证号", "edit-cert", certificate, "text")}
                <button class="button" type="submit" disabled=busy>"保存修改"</button>
            </form>
            <div class="actions">
                {if active {
                    view! {
                        <Show when=move || confirm_disable.get()
                            fallback=move || view! {
                                <button class="button button--secondary" type="button"
                                    on:click=move |_| confirm_disable.set(true)>"停用账号"</button>
                            }>
                            <p class="muted">"停用后该账号不能登录，所有设备上的登录立即失效。"</p>
                            <button class="button button--danger" type="button" disabled=busy
                                on:click=move |_| {
                                    confirm_disable.set(false);
                                    run(Action::Update(
                                        UserUpdate { active: Some(false), ..UserUpdate::default() },
                                        "账号已停用，其登录均已失效".to_owned(),
                                    ));
                                }>"确认停用"</button>
                            <button class="button button--secondary" type="button"
                                on:click=move |_| confirm_disable.set(false)>"取消"</button>
                        </Show>
                    }
                    .into_any()
                } else {
                    view! {
                        <button class="button button--secondary" type="button" disabled=busy
                            on:click=move |_| run(Action::Update(
                                UserUpdate { active: Some(true), ..UserUpdate::default() },
                                "账号已启用".to_owned(),
                            ))>"启用账号"</button>
                    }
                    .into_any()
                }}
            </div>
            <form class="form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let password = new_password.get_untracked();
                if let Some(problem) = password_problem(&password) {
                    message.set(Some((false, problem.to_owned())));
                    return;
                }
                new_password.set(String::new());
                run(Action::Password(password));
            }>
                {text_input("重置密码：新密码（至少 8 个字符）", "reset-password", new_password, "password")}
                <button class="button button--secondary" type="submit" disabled=busy>"重置密码"</button>
            </form>
            {move || notice(message.get())}
            <h3 class="card__subtitle">"已登录的设备"</h3>
            <Transition fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || sessions.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(list) if list.is_empty() => {
                        view! { <p class="muted">"没有有效的登录。"</p> }.into_any()
                    }
                    Ok(list) => sessions_list(list, run).into_any(),
                })}
            </Transition>
            <button class="button button--secondary" type="button" disabled=busy
                on:click=move |_| run(Action::Revoke(None))>
                {format!("注销 {username} 的全部登录")}
            </button>
            <button class="button button--secondary" type="button"
                on:click=move |_| close.run(())>"关闭"</button>
        </section>
    }
}

fn sessions_list(list: Vec<AdminSession>, run: impl Fn(Action) + Copy + 'static) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|session| {
            let device = session.device_code.clone().unwrap_or_else(|| {
                session.device_id.chars().take(8).collect::<String>()
            });
            let target = session.device_id.clone();
            view! {
                <li class="list__item" data-device=session.device_id.clone()>
                    <span>{format!("设备 {device}")}</span>
                    <span class="muted">{format!("登录于 {} · 有效至 {}", short_time(&session.since), short_time(&session.until))}</span>
                    <button class="button button--small button--secondary" type="button"
                        on:click=move |_| run(Action::Revoke(Some(target.clone())))>"注销此设备"</button>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="list sessions">{rows}</ul> }
}

/// An RFC 3339 time in China Standard Time, to the minute (as it came when unreadable).
fn short_time(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text).map_or_else(
        |_| text.to_owned(),
        |t| zhicha_core::time::minute(t.with_timezone(&chrono::Utc)),
    )
}

/// What the panel's buttons ask of the server.
enum Action {
    Update(UserUpdate, String),
    Password(String),
    Revoke(Option<String>),
}

impl Action {
    /// The confirmation to show, and whether the account list changed.
    async fn perform(self, id: UserId) -> Result<(String, bool), String> {
        match self {
            Self::Update(update, text) => {
                call(|t| async move { api::update_user(&t, id, &update).await }).await?;
                Ok((text, true))
            }
            Self::Password(password) => {
                call(|t| async move { api::reset_password(&t, id, &password).await }).await?;
                Ok((
                    "密码已重置，该账号在所有设备上的登录均已失效".to_owned(),
                    false,
                ))
            }
            Self::Revoke(device) => {
                let one = device.is_some();
                let answer = call(|t| async move { api::revoke(&t, id, device).await }).await?;
                Ok((
                    if one {
                        format!("已注销该设备的登录（{} 个）", answer.revoked)
                    } else {
                        format!("已注销全部登录（{} 个）", answer.revoked)
                    },
                    false,
                ))
            }
        }
    }
}
