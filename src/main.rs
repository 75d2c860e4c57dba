use std::process::ExitCode;

use clap::Parser;
use switchboard::auth::{resolve_secret, JwtKeys};
use switchboard::config::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    switchboard::logging::init(&cli.config.log, cli.config.log_format);
    match cli.command {
        Some(Command::Token(args)) => {
            let secret =
                match resolve_secret(cli.config.jwt_secret.as_deref(), &cli.config.data_dir) {
                    Ok((s, _)) => s,
                    Err(e) => {
                        eprintln!(
                            "cannot read or create the JWT secret in {}: {e}",
                            cli.config.data_dir.display()
                        );
                        return ExitCode::FAILURE;
                    }
                };
            let name = args.name.clone().unwrap_or_else(|| args.user_id.clone());
            println!(
                "{}",
                JwtKeys::new(secret.as_bytes()).mint(&args.user_id, &args.role, &name, args.ttl)
            );
            ExitCode::SUCCESS
        }
        None | Some(Command::Serve) => serve(cli.config),
    }
}

fn serve(config: switchboard::config::Config) -> ExitCode {
    let system = actix::System::new();
    let mut db_alive = None;
    let result = system.block_on(async {
        let running = switchboard::startup::start(config)?;
        db_alive = Some(running.db_alive.clone());
        let shutdown = running.shutdown.clone();
        actix_web::rt::spawn(async move {
            stop_signal().await;
            shutdown.run().await;
        });
        if let Some(link) = &running.admin_link {
            println!("Switchboard is running. Agent console (signed in for 15 minutes):\n  {link}");
        }
        running
            .server
            .await
            .map_err(|e| switchboard::startup::StartError::Bind("server".into(), e))
    });
    // Stopping the actors ends the database workers; let them close their connections
    // before the process exits (libpq's OpenSSL state must not be torn down under them).
    drop(system);
    if let Some(alive) = db_alive {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::sync::Arc::strong_count(&alive) > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            eprintln!("switchboard: {e}");
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM (a service manager, an orchestrator) or SIGINT (Ctrl-C).
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        log::error!("cannot listen for SIGTERM: stopping takes a kill");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => log::info!("SIGTERM"),
        _ = int.recv() => log::info!("SIGINT"),
    }
}
