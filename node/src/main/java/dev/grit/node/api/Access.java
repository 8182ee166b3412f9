package dev.grit.node.api;

import dev.grit.node.auth.Role;

/** Who may use a route. */
enum Access {
  /** Anyone: the probes. */
  OPEN(null),
  READ(Role.READ),
  SUBMIT(Role.SUBMIT),
  ADMIN(Role.ADMIN),
  /** Members of the cluster, by their certificate: chunk fetches between nodes. */
  MEMBER(null);

  /** The token role the route needs, or null when a token is not what it takes. */
  final Role role;

  Access(Role role) {
    this.role = role;
  }
}
