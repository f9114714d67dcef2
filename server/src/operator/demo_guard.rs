//! The published demo password never reaches production: `serve` checks every active account
//! before listening anywhere but loopback.

use super::seed::DEMO_PASSWORD;

/// Refuses to serve on an address other machines can reach while an account still accepts
/// [`DEMO_PASSWORD`]: the demo password is published, so it must never reach production.
pub async fn refuse_demo_password_off_loopback(
    state: &crate::AppState,
    addr: std::net::SocketAddr,
) -> anyhow::Result<()> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    let demo = accounts_with_demo_password(state).await?;
    if demo.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "拒绝在 {addr} 上提供服务：账号 {} 仍使用公开的演示密码 {DEMO_PASSWORD}，任何人都能登录。\n\
         请先为这些账号设置新密码（zhicha-server user passwd <用户名>），或停用演示账号\n\
         （zhicha-server user disable <用户名>）；只看演示请在 127.0.0.1 上运行。",
        demo.join("、")
    )
}

/// The active accounts whose password is [`DEMO_PASSWORD`].
pub async fn accounts_with_demo_password(state: &crate::AppState) -> anyhow::Result<Vec<String>> {
    let mut demo = Vec::new();
    for user in state.store.users().await? {
        let Some(credentials) = state.store.credentials(&user.username).await? else {
            continue;
        };
        let checked = state
            .passwords
            .verify(DEMO_PASSWORD, Some(&credentials.password_hash))
            .await?;
        if checked == crate::auth::Checked::Match {
            demo.push(user.username);
        }
    }
    Ok(demo)
}
