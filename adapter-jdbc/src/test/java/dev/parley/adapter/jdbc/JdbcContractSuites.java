package dev.parley.adapter.jdbc;

import dev.parley.chat.core.RunEventBuses;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunSignals;
import dev.parley.chat.testkit.AgentStoreContract;
import dev.parley.chat.testkit.ApprovalStoreContract;
import dev.parley.chat.testkit.CachedTokensContract;
import dev.parley.chat.testkit.IdempotencyStoreContract;
import dev.parley.chat.testkit.JobLeasesContract;
import dev.parley.chat.testkit.MessageStoreContract;
import dev.parley.chat.testkit.MessageTreeContract;
import dev.parley.chat.testkit.RunEventBusContract;
import dev.parley.chat.testkit.RunEventStoreContract;
import dev.parley.chat.testkit.RunSignalsContract;
import dev.parley.chat.testkit.RunCompletionContract;
import dev.parley.chat.testkit.RunLeaseContract;
import dev.parley.chat.testkit.RunStepContract;
import dev.parley.chat.testkit.RunStoreContract;
import dev.parley.chat.testkit.ServerLivenessContract;
import dev.parley.chat.testkit.ThreadStoreContract;
import dev.parley.chat.testkit.TrashContract;
import dev.parley.chat.testkit.TransactionContract;
import dev.parley.chat.testkit.UsageLedgerContract;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.junit.jupiter.api.Nested;

/** Every chat-testkit contract suite over a database of the subclass's, emptied before each test. */
abstract class JdbcContractSuites {
    /** The database of the concrete test class, registered there as an extension. */
    abstract TestDatabase db();

    @Nested
    class Threads extends ThreadStoreContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class Trash extends TrashContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class Usage extends UsageLedgerContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class CachedTokens extends CachedTokensContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class Leases extends JobLeasesContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class Messages extends MessageStoreContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class Tree extends MessageTreeContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class Runs extends RunStoreContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class RunSteps extends RunStepContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class RunLeases extends RunLeaseContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class RunCompletion extends RunCompletionContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }

        /** Both dialects look in the run's compare-and-set when the store keeps the ledger, as it does by default. */
        @Override
        protected boolean looksForQueuedRuns() {
            return true;
        }
    }

    @Nested
    class Approvals extends ApprovalStoreContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class Events extends RunEventStoreContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class Idempotency extends IdempotencyStoreContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class Agents extends AgentStoreContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    @Nested
    class Transactions extends TransactionContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    /** The core's bus of each server over the shared database's event log, polling it. */
    @Nested
    class EventBus extends RunEventBusContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }

        @Override
        protected RunEventBus createBus(ChatStore sharedStore) {
            return RunEventBuses.create(sharedStore.events(), RunSignals.none());
        }
    }

    /** PostgreSQL tells live servers from gone ones; H2 does not (its runs end by their leases). */
    @Nested
    class Liveness extends ServerLivenessContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }

        @Override
        protected void cutSession(String owner) {
            try (Connection c = db().connect(); PreparedStatement s = c.prepareStatement(
                    "SELECT pg_terminate_backend(backend_pid) FROM parley_servers WHERE owner_id = ?")) {
                s.setString(1, owner);
                s.execute();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Nested
    class Signals extends RunSignalsContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }
    }

    /** The same bus woken by the store's hints that events were stored, polling only as a fallback. */
    @Nested
    class EventBusWithSignals extends RunEventBusContract {
        @Override
        protected ChatStore createStore() {
            return db().freshStore();
        }

        @Override
        protected RunEventBus createBus(ChatStore sharedStore) {
            return RunEventBuses.create(sharedStore);
        }
    }
}
