//! The command line: `serve` and the operator commands (users, org units, enterprise import,
//! demo seed). Every command reads the same configuration (env vars or flags) as `serve`.

use std::io::BufRead as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use zhicha_core::ids::{OrgId, UserId};
use zhicha_core::model::{OrgUnit, Role, User};

use super::{archive, backup, import, seed};
use crate::auth::Passwords;
use crate::{AppState, Config, Store};

#[derive(Debug, Parser)]
#[command(name = "zhicha-server", version, about = "直查 sync server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the built PWA (`--demo` seeds an empty database with demo data).
    Serve(Config),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage organisation units (旗局 → 中队).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage the enterprise directory.
    #[command(subcommand)]
    Enterprise(EnterpriseCommand),
    /// Demo data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Back up the database (SQLite) and the local photos into a new folder, while the server
    /// serves (PostgreSQL: `pg_dump`; S3: the bucket's versioning, see the README).
    Backup {
        /// A new or empty folder, e.g. /var/backups/zhicha/2026-12-04.
        dir: PathBuf,
        #[command(flatten)]
        config: Config,
    },
    /// Restore a backup into an empty data folder, checking every file against its manifest.
    Restore {
        /// The backup folder (holding SHA256SUMS).
        dir: PathBuf,
        #[command(flatten)]
        config: Config,
    },
    /// Check the whole hash-chained event log, and every inspection and finding against its
    /// latest event; names the first break. Exit status 1 when anything fails.
    VerifyLog {
        #[command(flatten)]
        config: Config,
    },
    /// Export the 案卷 of one inspection as a zip that anyone can check offline: the records as
    /// stored, their photos, the documents as PDF, the events with the device signatures, all
    /// listed in a manifest the server signs. Prints the server's public key to pin.
    ExportArchive {
        /// The inspection's id.
        #[arg(long)]
        inspection: String,
        /// The zip to write, e.g. 案卷.zip (an existing file is replaced).
        out: PathBuf,
        #[command(flatten)]
        config: Config,
    },
    /// Check a 案卷 zip offline, without the database: the server's signature, every file's
    /// hash, the events, their chain links and device signatures, the records against their
    /// latest events and the photos. Names each failure by file; exit status 1 when any fails.
    VerifyArchive {
        /// The 案卷 zip.
        file: PathBuf,
        /// The server's public key (hex, as `export-archive` prints it): the manifest must be
        /// signed by it, not only by the key it names itself.
        #[arg(long)]
        server_key: Option<String>,
    },
    /// Re-run a 双随机 draw from its record (the JSON of `GET /api/v1/draws/{id}`), without the
    /// database: the recorded inputs must give exactly the recorded result, and their SHA-256
    /// the recorded input hash. Exit status 1 naming the first difference otherwise.
    VerifyDraw {
        /// The draw record, e.g. draw-3.json.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from the first line of stdin unless given.
    Add {
        username: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Org unit: its id or exact name.
        #[arg(long)]
        org: String,
        /// Name shown in the app and on documents (defaults to the user name).
        #[arg(long)]
        name: Option<String>,
        /// 执法证号.
        #[arg(long)]
        cert: Option<String>,
        #[arg(long, env = "ZHICHA_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[command(flatten)]
        config: Config,
    },
    /// Set a user's password (read from stdin unless given) and revoke their tokens.
    Passwd {
        username: String,
        #[arg(long, env = "ZHICHA_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[command(flatten)]
        config: Config,
    },
    /// List users.
    List {
        #[command(flatten)]
        config: Config,
    },
    /// Make an admin region-wide: he then manages every bureau, not only his own subtree
    /// (`--off` makes him a bureau admin again). Only here, never from the web.
    Superuser {
        username: String,
        #[arg(long)]
        off: bool,
        #[command(flatten)]
        config: Config,
    },
    /// Disable an account: it can no longer log in and every session of it ends at once.
    Disable {
        username: String,
        #[command(flatten)]
        config: Config,
    },
    /// Enable a disabled account again.
    Enable {
        username: String,
        #[command(flatten)]
        config: Config,
    },
    /// List a user's valid sessions (device id, device code, since, until).
    Sessions {
        username: String,
        #[command(flatten)]
        config: Config,
    },
    /// End a user's sessions: all of them, or one device's (a lost phone).
    Revoke {
        username: String,
        /// The device: its id or its code, as `user sessions` lists them.
        #[arg(long)]
        device: Option<String>,
        #[command(flatten)]
        config: Config,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Inspector,
    Leader,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Inspector => Role::Inspector,
            RoleArg::Leader => Role::Leader,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add an org unit under a parent (none for a bureau at the root).
    Add {
        name: String,
        /// Parent unit: its id or exact name.
        #[arg(long)]
        parent: Option<String>,
        /// Short name of the authority in document numbers, e.g. 达旗应急 (defaults to the parent's).
        #[arg(long)]
        doc_code: Option<String>,
        /// Region covered, e.g. 达拉特旗 (defaults to the parent's).
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        config: Config,
    },
    /// List org units.
    List {
        #[command(flatten)]
        config: Config,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnterpriseCommand {
    /// Import the bureau's list: an .xlsx workbook or CSV in UTF-8 or GBK, Chinese or English
    /// headers (documented in `import`); bad rows are reported by line, good rows are kept.
    Import {
        file: PathBuf,
        /// The authority whose directory it is: id or exact name (defaults to the only root unit).
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        config: Config,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Seed the demo bureau, teams, enterprises and accounts into an empty database.
    Seed(DemoArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub config: Config,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => crate::serve::serve(config).await,
        Command::User(command) => user(command).await,
        Command::Org(command) => org(command).await,
        Command::Enterprise(EnterpriseCommand::Import { file, org, config }) => {
            let store = Store::open(&config).await?;
            let orgs = store.orgs().await?;
            let org = match org {
                Some(reference) => find_org(&orgs, &reference)?.id,
                None => {
                    let roots: Vec<_> = orgs.iter().filter(|o| o.parent_id.is_none()).collect();
                    match roots.as_slice() {
                        [root] => root.id,
                        _ => bail!("请用 --org 指定企业名录所属单位"),
                    }
                }
            };
            let input =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let report = import::import(&store, org, &input).await?;
            for (line, message) in &report.errors {
                eprintln!("{}:{line}: {message}", file.display());
            }
            println!(
                "导入 {} 家企业，跳过 {} 行有误的记录",
                report.imported,
                report.errors.len()
            );
            store.close().await;
            Ok(())
        }
        Command::Demo(DemoCommand::Seed(DemoArgs { config })) => {
            let state = AppState::open(config).await?;
            if !state.store.is_empty().await? {
                bail!("数据库中已有数据，未写入演示数据");
            }
            let summary = seed::demo(&state.store, &state.passwords).await?;
            let findings = seed::demo_findings(&state.store, &state.photos, &summary).await?;
            print!("{}", summary.accounts_text());
            println!("演示隐患：{findings} 条");
            state.store.close().await;
            Ok(())
        }
        Command::Backup { dir, config } => backup::backup_command(&config, &dir).await,
        Command::Restore { dir, config } => backup::restore_command(&config, &dir).await,
        Command::VerifyLog { config } => verify_log(config).await,
        Command::ExportArchive {
            inspection,
            out,
            config,
        } => export_archive(config, &inspection, &out).await,
        Command::VerifyArchive { file, server_key } => verify_archive(&file, server_key.as_deref()),
        Command::VerifyDraw { file } => verify_draw(&file),
    }
}

/// `export-archive`: writes the zip and says what it holds.
async fn export_archive(
    config: Config,
    inspection: &str,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let Ok(id) = inspection.parse() else {
        bail!("检查编号无效：{inspection}");
    };
    let state = AppState::open(config).await?;
    let archive = archive::export_by_id(&state.store, &state.photos, id).await;
    state.store.close().await;
    let Some(archive) = archive? else {
        bail!("没有检查 {inspection}");
    };
    std::fs::write(out, &archive.bytes).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "已导出案卷 {}（{} 字节，建议文件名 {}）",
        out.display(),
        archive.bytes.len(),
        archive.file_name
    );
    println!("服务器公钥：{}", archive.server_key);
    Ok(())
}

/// `verify-archive`: prints what holds and each failure by file; an error when any fails.
fn verify_archive(file: &std::path::Path, server_key: Option<&str>) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.display().to_string();
    let report = archive::verify_zip(&bytes, server_key, &name);
    print!("{}", zhicha_core::evidence::archive::report_text(&report));
    if !report.holds() {
        bail!("案卷 {name} 校验未通过");
    }
    Ok(())
}

/// `verify-draw`: re-runs the draw and checks the input hash; an error naming the difference.
fn verify_draw(file: &std::path::Path) -> anyhow::Result<()> {
    use zhicha_core::plan::api::DrawRecord;
    use zhicha_core::plan::draw;
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let record: DrawRecord = serde_json::from_slice(&text).with_context(|| {
        format!(
            "{} 不是抽取记录（GET /api/v1/draws/{{id}} 的 JSON）",
            file.display()
        )
    })?;
    let hash = draw::input_hash(&record.input);
    if hash != record.input_hash {
        bail!(
            "第 {} 号抽取的输入摘要不符：记录为 {}，按记录的输入计算为 {hash}",
            record.no,
            record.input_hash
        );
    }
    if let Err(difference) = draw::verify(&record.input, &record.result) {
        bail!("第 {} 号抽取复核不一致：{difference}", record.no);
    }
    println!(
        "第 {} 号抽取复核一致：{} 家单位，随机种子 {}，输入摘要 {hash}",
        record.no,
        record.result.picks.len(),
        record.input.seed
    );
    Ok(())
}

/// `verify-log`: prints what holds and what does not; an error when anything fails.
async fn verify_log(config: Config) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let report = state.store.verify_log().await?;
    state.store.close().await;
    println!("事件：{} 条，链头 {}", report.events, report.head);
    if report.clock_flagged > 0 {
        println!("手机时钟偏差超过 5 分钟的事件：{} 条", report.clock_flagged);
    }
    if let Some(broken) = &report.broken {
        println!("事件链断裂：{broken}");
    }
    for altered in &report.altered {
        println!(
            "记录被改动：{} {}（与第 {} 号事件记录的内容不符）",
            altered.entity, altered.id, altered.event_seq
        );
    }
    if !report.holds() {
        bail!("事件日志校验未通过");
    }
    println!("事件日志校验通过");
    Ok(())
}

/// `user enable` / `user disable`.
async fn set_active(username: &str, config: &Config, active: bool) -> anyhow::Result<()> {
    let store = Store::open(config).await?;
    if !store.set_active(username, active).await? {
        bail!("没有用户 {username}");
    }
    if active {
        println!("已启用 {username}");
    } else {
        println!("已停用 {username}，其登录令牌均已失效");
    }
    store.close().await;
    Ok(())
}

async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            username,
            role,
            org,
            name,
            cert,
            password,
            config,
        } => {
            let state = AppState::open(config).await?;
            let orgs = state.store.orgs().await?;
            let org = find_org(&orgs, &org)?;
            let password = password_or_stdin(password)?;
            let user = User {
                id: UserId::new(),
                display_name: name.unwrap_or_else(|| username.clone()),
                username,
                role: role.into(),
                org_id: org.id,
                certificate_no: cert,
            };
            let hash = state.passwords.hash(&password).await?;
            if !state.store.insert_user(&user, &hash).await? {
                bail!("用户名 {} 已存在", user.username);
            }
            println!(
                "已创建用户 {}（{}，{}）",
                user.username,
                user.role.label_zh(),
                org.name
            );
            state.store.close().await;
        }
        UserCommand::Passwd {
            username,
            password,
            config,
        } => {
            let store = Store::open(&config).await?;
            let passwords = Passwords::new(&config.auth)?;
            let password = password_or_stdin(password)?;
            let hash = passwords.hash(&password).await?;
            if !store.set_password(&username, &hash, None).await? {
                bail!("没有用户 {username}");
            }
            println!("已修改 {username} 的密码，其登录令牌均已失效");
            store.close().await;
        }
        UserCommand::Superuser {
            username,
            off,
            config,
        } => {
            let store = Store::open(&config).await?;
            if !store.set_superuser(&username, !off).await? {
                bail!("没有管理员账号 {username}（只有管理员可设为全区管理员）");
            }
            if off {
                println!("{username} 不再是全区管理员，只管理本单位及下级单位");
            } else {
                println!("{username} 已设为全区管理员，可管理所有单位");
            }
            store.close().await;
        }
        UserCommand::Disable { username, config } => set_active(&username, &config, false).await?,
        UserCommand::Enable { username, config } => set_active(&username, &config, true).await?,
        UserCommand::Sessions { username, config } => {
            let store = Store::open(&config).await?;
            let sessions = store.sessions(&username).await?;
            if sessions.is_empty() {
                println!("{username} 没有有效的登录");
            }
            for session in sessions {
                println!(
                    "{}\t{}\t登录于 {}\t有效至 {}",
                    session.device_id,
                    session.device_code.as_deref().unwrap_or("-"),
                    session.created_at,
                    session.expires_at
                );
            }
            store.close().await;
        }
        UserCommand::Revoke {
            username,
            device,
            config,
        } => {
            let store = Store::open(&config).await?;
            let Some(revoked) = store.revoke_sessions(&username, device.as_deref()).await? else {
                bail!("没有用户 {username}");
            };
            match device {
                Some(device) if revoked == 0 => {
                    bail!("{username} 在设备 {device} 上没有有效的登录")
                }
                Some(device) => println!("已注销 {username} 在设备 {device} 上的 {revoked} 个登录"),
                None => println!("已注销 {username} 的全部 {revoked} 个登录"),
            }
            store.close().await;
        }
        UserCommand::List { config } => {
            let store = Store::open(&config).await?;
            let orgs = store.orgs().await?;
            for user in store.users().await? {
                let org = orgs
                    .iter()
                    .find(|o| o.id == user.org_id)
                    .map_or("?", |o| o.name.as_str());
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    user.username,
                    user.display_name,
                    user.role.label_zh(),
                    org,
                    user.certificate_no.as_deref().unwrap_or("-")
                );
            }
            store.close().await;
        }
    }
    Ok(())
}

async fn org(command: OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Add {
            name,
            parent,
            doc_code,
            region,
            config,
        } => {
            let store = Store::open(&config).await?;
            let orgs = store.orgs().await?;
            let parent = parent.map(|p| find_org(&orgs, &p).cloned()).transpose()?;
            let name = name.trim().to_owned();
            if name.is_empty() {
                bail!("单位名称不能为空");
            }
            let unit = OrgUnit {
                id: OrgId::new(),
                parent_id: parent.as_ref().map(|p| p.id),
                doc_code: doc_code
                    .or_else(|| parent.as_ref().map(|p| p.doc_code.clone()))
                    .unwrap_or_else(|| name.clone()),
                region: region
                    .or_else(|| parent.as_ref().map(|p| p.region.clone()))
                    .unwrap_or_default(),
                name,
                // Empty: the nearest ancestor's apply (the web admin sets them).
                review_authority: String::new(),
                court: String::new(),
            };
            store.insert_org(&unit).await?;
            println!("{}\t{}", unit.id, unit.name);
            store.close().await;
        }
        OrgCommand::List { config } => {
            let store = Store::open(&config).await?;
            let orgs = store.orgs().await?;
            for org in &orgs {
                let parent = org
                    .parent_id
                    .and_then(|p| orgs.iter().find(|o| o.id == p))
                    .map_or("-", |o| o.name.as_str());
                println!(
                    "{}\t{}\t上级: {}\t{}\t{}",
                    org.id, org.name, parent, org.doc_code, org.region
                );
            }
            store.close().await;
        }
    }
    Ok(())
}

/// An org unit by id or exact name; an ambiguous name is an error.
fn find_org<'a>(orgs: &'a [OrgUnit], reference: &str) -> anyhow::Result<&'a OrgUnit> {
    if let Some(org) = orgs.iter().find(|o| o.id.to_string() == reference) {
        return Ok(org);
    }
    let named: Vec<_> = orgs.iter().filter(|o| o.name == reference).collect();
    match named.as_slice() {
        [org] => Ok(org),
        [] => bail!("没有单位 {reference}（可用 `org list` 查看）"),
        _ => bail!("有多个名为 {reference} 的单位，请改用其 id"),
    }
}

fn password_or_stdin(password: Option<String>) -> anyhow::Result<String> {
    let password = match password {
        Some(p) => p,
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if let Some(problem) = zhicha_core::protocol::new_password_problem(&password, "") {
        bail!("{problem}");
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn verify_archive_needs_no_configuration() {
        let cli = Cli::try_parse_from([
            "zhicha-server",
            "verify-archive",
            "a.zip",
            "--server-key",
            "04ab",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::VerifyArchive { server_key: Some(key), .. } if key == "04ab"
        ));
    }

    #[test]
    fn serve_takes_a_demo_flag() {
        let cli = Cli::try_parse_from(["zhicha-server", "serve", "--demo"]).unwrap();
        assert!(matches!(cli.command, Command::Serve(config) if config.demo));
    }
}
