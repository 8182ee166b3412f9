package dev.grit.node.auth;

import java.util.Locale;

/**
 * What a bearer token allows on the API; each role includes the ones before it. {@code read}: every
 * GET (runs, tasks, logs, resources, objects, cluster, metrics); {@code submit}: runs, cancelling
 * them (and all of read); {@code admin}: membership changes (and all of submit).
 */
public enum Role {
  READ,
  SUBMIT,
  ADMIN;

  public boolean includes(Role other) {
    return compareTo(other) >= 0;
  }

  /** The role's name as tokens files and the command line spell it. */
  public String spelling() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code read}, {@code submit} or {@code admin}. */
  public static Role parse(String text) {
    for (Role r : values()) {
      if (r.spelling().equals(text)) {
        return r;
      }
    }
    throw new IllegalArgumentException("'" + text + "' is not a role: read, submit or admin");
  }
}
