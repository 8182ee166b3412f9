package dev.grit.node;

import dev.grit.consensus.state.StateEvent;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the events of each applied entry to the parts of the node that react to them (worker,
 * leader loop, progress output). Called on the apply thread: subscribers only enqueue or wake.
 */
public final class EventHub {
  private static final Logger LOG = LoggerFactory.getLogger(EventHub.class);
  private final List<Consumer<List<StateEvent>>> subscribers = new CopyOnWriteArrayList<>();

  public void subscribe(Consumer<List<StateEvent>> subscriber) {
    subscribers.add(subscriber);
  }

  public void unsubscribe(Consumer<List<StateEvent>> subscriber) {
    subscribers.remove(subscriber);
  }

  void publish(List<StateEvent> events) {
    for (var s : subscribers) {
      try {
        s.accept(events);
      } catch (RuntimeException e) {
        // A listener's bug must not stop the apply thread: the record is already committed.
        LOG.error("event subscriber failed", e);
      }
    }
  }
}
