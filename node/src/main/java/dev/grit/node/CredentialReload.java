package dev.grit.node;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a node's certificate, key, CA and tokens files again every few seconds (system property
 * {@code grit.credentials.reload.millis}, default 5000) and puts changed ones to use: a Kubernetes
 * Secret updated in place (its files are swapped atomically) rotates them without a restart. Files
 * that do not hang together — a key that is not the certificate's, say, while the files are being
 * replaced one by one — are refused with one warning and the material in use stays.
 */
final class CredentialReload implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CredentialReload.class);

  private final NodeSecurity security;
  private final ScheduledExecutorService timer;
  private String lastProblem;

  private CredentialReload(NodeSecurity security) {
    this.security = security;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "grit-credential-reload");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts reloading what {@code security} holds; nothing to do for a node without any. */
  static CredentialReload start(NodeSecurity security) {
    var reload = new CredentialReload(security);
    if (security.tls() != null || security.tokens() != null) {
      long every = Long.getLong("grit.credentials.reload.millis", 5000);
      reload.timer.scheduleWithFixedDelay(reload::check, every, every, TimeUnit.MILLISECONDS);
    }
    return reload;
  }

  /** One look at the files; public to the package for tests that do not want to wait. */
  synchronized void check() {
    String problem = null;
    try {
      if (security.tls() != null && security.tls().reloadIfChanged()) {
        var cert = security.tls().certificate();
        LOG.info(
            "TLS: now presenting certificate {} (serial {}, valid until {})",
            cert.getSubjectX500Principal().getName(),
            cert.getSerialNumber().toString(16),
            cert.getNotAfter().toInstant());
      }
    } catch (IOException | RuntimeException e) {
      problem = "TLS files not used: " + e.getMessage();
    }
    try {
      if (security.tokens() != null && security.tokens().reloadIfChanged()) {
        LOG.info("API tokens reloaded: {} tokens", security.tokens().size());
      }
    } catch (IOException | RuntimeException e) {
      problem = (problem == null ? "" : problem + "; ") + "tokens file not used: " + e.getMessage();
    }
    if (problem != null && !problem.equals(lastProblem)) {
      LOG.warn("{} (the ones loaded before stay in use)", problem);
    }
    lastProblem = problem;
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
