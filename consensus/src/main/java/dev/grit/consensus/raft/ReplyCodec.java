package dev.grit.consensus.raft;

import dev.grit.consensus.state.Reply;
import dev.grit.consensus.state.Reply.AlreadyApplied;
import dev.grit.consensus.state.Reply.AttemptsExpired;
import dev.grit.consensus.state.Reply.ChunksStored;
import dev.grit.consensus.state.Reply.NoSuchRun;
import dev.grit.consensus.state.Reply.NodeRegistered;
import dev.grit.consensus.state.Reply.ReportsApplied;
import dev.grit.consensus.state.Reply.RulesFollowed;
import dev.grit.consensus.state.Reply.RunAlreadyEnded;
import dev.grit.consensus.state.Reply.RunCancelled;
import dev.grit.consensus.state.Reply.RunSubmitted;
import dev.grit.consensus.state.Reply.SubmissionRefused;
import dev.grit.consensus.state.Reply.RetryRefused;
import dev.grit.consensus.state.Reply.TasksAssigned;
import dev.grit.consensus.state.Reply.TasksRetried;
import dev.grit.consensus.state.RunState;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The wire form of a {@link Reply}: what the leader's apply sends back to the proposing member.
 *
 * <p>Format 1 is one line of UTF-8 text per kind ({@code run 7}, {@code assigned 3 of 4}, ...):
 * the text every release so far has replied with. The leader answers proposals from every member,
 * and during a rolling upgrade those run different releases, so a release may send a new format
 * only once every member reads it: gated, like {@link CommandCodec}'s {@code RegisterNode} format,
 * by what the members announce. Decoding is strict: a reply that is none of these kinds is an
 * {@link IllegalArgumentException} naming it.
 */
public final class ReplyCodec {
  private static final Pattern RUN = Pattern.compile("run (-?\\d+)");
  private static final Pattern ASSIGNED = Pattern.compile("assigned (\\d+) of (\\d+)");
  private static final Pattern CHUNKS = Pattern.compile("chunks (\\d+)");
  private static final Pattern ACCEPTED = Pattern.compile("accepted (\\d+) of (\\d+)");
  private static final Pattern EXPIRED = Pattern.compile("expired (\\d+)");
  private static final Pattern CANCELLED = Pattern.compile("cancelled run (-?\\d+)");
  private static final Pattern NO_RUN = Pattern.compile("no run (-?\\d+)");
  private static final Pattern ENDED = Pattern.compile("run (-?\\d+) already ([a-z]+)");
  private static final Pattern REGISTERED = Pattern.compile("registered (.*)", Pattern.DOTALL);
  private static final Pattern RULES = Pattern.compile("rules version (-?\\d+)");
  private static final Pattern RETRIED = Pattern.compile("retried (\\d+) in run (-?\\d+)");
  private static final Pattern RETRY_REFUSED =
      Pattern.compile("retry refused: (.*)", Pattern.DOTALL);
  private static final Pattern COLLECTED =
      Pattern.compile(
          "collected (\\d+) runs (\\d+) attempts (\\d+) tasks (\\d+) resources (\\d+) objects"
              + " (\\d+) chunks");
  private static final Pattern GC_NOT_YET =
      Pattern.compile("gc needs newer rules than version (-?\\d+)");
  private static final Pattern REFUSED = Pattern.compile("refused: (.*)", Pattern.DOTALL);

  private ReplyCodec() {}

  public static byte[] encode(Reply reply) {
    return text(reply).getBytes(StandardCharsets.UTF_8);
  }

  private static String text(Reply reply) {
    if (reply instanceof RunSubmitted r) {
      return "run " + r.runId();
    } else if (reply instanceof SubmissionRefused r) {
      // Sent only for a manifest with gather steps, which only a release that reads it proposes.
      return "refused: " + r.reason();
    } else if (reply instanceof TasksAssigned a) {
      return "assigned " + a.assigned() + " of " + (a.assigned() + a.skipped());
    } else if (reply instanceof ChunksStored c) {
      return "chunks " + c.chunks();
    } else if (reply instanceof ReportsApplied r) {
      return "accepted " + r.accepted() + " of " + (r.accepted() + r.stale());
    } else if (reply instanceof AttemptsExpired e) {
      return "expired " + e.expired();
    } else if (reply instanceof RunCancelled c) {
      return "cancelled run " + c.runId();
    } else if (reply instanceof NoSuchRun n) {
      return "no run " + n.runId();
    } else if (reply instanceof RunAlreadyEnded e) {
      return "run " + e.runId() + " already " + e.state().name().toLowerCase(Locale.ROOT);
    } else if (reply instanceof NodeRegistered n) {
      return "registered " + n.node();
    } else if (reply instanceof RulesFollowed r) {
      return "rules version " + r.version();
    } else if (reply instanceof TasksRetried r) {
      return "retried " + r.tasks() + " in run " + r.runId();
    } else if (reply instanceof RetryRefused r) {
      return "retry refused: " + r.reason();
    } else if (reply instanceof Reply.Collected c) {
      return "collected " + c.runs() + " runs " + c.attempts() + " attempts " + c.tasks()
          + " tasks " + c.resources() + " resources " + c.objects() + " objects " + c.chunks()
          + " chunks";
    } else if (reply instanceof Reply.GcNotYet g) {
      return "gc needs newer rules than version " + g.rulesVersion();
    } else if (reply instanceof AlreadyApplied) {
      return "";
    }
    throw new IllegalArgumentException("no wire form for " + reply);
  }

  public static Reply decode(byte[] bytes) {
    String text = new String(bytes, StandardCharsets.UTF_8);
    try {
      Reply reply = parse(text);
      if (reply != null) {
        return reply;
      }
    } catch (IllegalArgumentException e) {
      // a count beyond range, or a state no run ends in
      throw new IllegalArgumentException("malformed reply \"" + text + "\": " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("unknown reply \"" + text + "\"");
  }

  private static Reply parse(String text) {
    Matcher m;
    if (text.isEmpty()) {
      return new AlreadyApplied();
    } else if ((m = RUN.matcher(text)).matches()) {
      return new RunSubmitted(Long.parseLong(m.group(1)));
    } else if ((m = ASSIGNED.matcher(text)).matches()) {
      int assigned = Integer.parseInt(m.group(1));
      return new TasksAssigned(assigned, ofTotal(assigned, m.group(2)));
    } else if ((m = CHUNKS.matcher(text)).matches()) {
      return new ChunksStored(Integer.parseInt(m.group(1)));
    } else if ((m = ACCEPTED.matcher(text)).matches()) {
      int accepted = Integer.parseInt(m.group(1));
      return new ReportsApplied(accepted, ofTotal(accepted, m.group(2)));
    } else if ((m = EXPIRED.matcher(text)).matches()) {
      return new AttemptsExpired(Integer.parseInt(m.group(1)));
    } else if ((m = CANCELLED.matcher(text)).matches()) {
      return new RunCancelled(Long.parseLong(m.group(1)));
    } else if ((m = NO_RUN.matcher(text)).matches()) {
      return new NoSuchRun(Long.parseLong(m.group(1)));
    } else if ((m = ENDED.matcher(text)).matches()) {
      return new RunAlreadyEnded(
          Long.parseLong(m.group(1)), RunState.valueOf(m.group(2).toUpperCase(Locale.ROOT)));
    } else if ((m = REGISTERED.matcher(text)).matches()) {
      return new NodeRegistered(m.group(1));
    } else if ((m = RULES.matcher(text)).matches()) {
      return new RulesFollowed(Integer.parseInt(m.group(1)));
    } else if ((m = RETRIED.matcher(text)).matches()) {
      return new TasksRetried(Long.parseLong(m.group(2)), Integer.parseInt(m.group(1)));
    } else if ((m = RETRY_REFUSED.matcher(text)).matches()) {
      return new RetryRefused(m.group(1));
    } else if ((m = COLLECTED.matcher(text)).matches()) {
      return new Reply.Collected(
          Integer.parseInt(m.group(1)),
          Integer.parseInt(m.group(2)),
          Integer.parseInt(m.group(3)),
          Integer.parseInt(m.group(4)),
          Integer.parseInt(m.group(5)),
          Integer.parseInt(m.group(6)));
    } else if ((m = GC_NOT_YET.matcher(text)).matches()) {
      return new Reply.GcNotYet(Integer.parseInt(m.group(1)));
    } else if ((m = REFUSED.matcher(text)).matches()) {
      return new SubmissionRefused(m.group(1));
    }
    return null;
  }

  /** The rest of {@code total} after {@code part}: "3 of 4" leaves 1. */
  private static int ofTotal(int part, String total) {
    int rest = Integer.parseInt(total) - part;
    if (rest < 0) {
      throw new IllegalArgumentException(part + " is more than " + total);
    }
    return rest;
  }
}
