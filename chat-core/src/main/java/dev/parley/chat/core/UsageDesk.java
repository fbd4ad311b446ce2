package dev.parley.chat.core;

import dev.parley.chat.model.BudgetExceededException;
import dev.parley.chat.model.ForbiddenException;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import dev.parley.chat.model.UsageTotals;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.UsageQuery;
import dev.parley.chat.port.in.UsageReport;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What runs used and cost: usage reports (a user's own, an administrator's of anyone) read from the
 * store's ledger, prices, and the monthly budget a send is checked against. The store is the truth,
 * so every server sharing it sees the same month-to-date cost.
 */
final class UsageDesk {
    private static final Logger log = LoggerFactory.getLogger(UsageDesk.class);

    private final Engine engine;
    /** The monthly budget of each user in US dollars, null for none. */
    private final Function<String, BigDecimal> budgets;

    UsageDesk(Engine engine, Function<String, BigDecimal> budgets) {
        this.engine = engine;
        this.budgets = budgets;
    }

    UsageReport usage(Caller caller, UsageQuery query) {
        Require.notNull(caller, "caller");
        Require.notNull(query, "query");
        Require.notBlank(caller.userId(), "caller.userId");
        boolean other = query.userId() != null && !query.userId().equals(caller.userId());
        if ((other || query.groupBy() == UsageGroup.USER) && !caller.isAdmin()) {
            throw new ForbiddenException(ForbiddenException.Reason.FORBIDDEN,
                    "Another user's usage and usage by user need the admin role");
        }
        Instant now = engine.now();
        Instant from = query.from() != null ? query.from() : monthStart(now);
        Instant to = query.to() != null ? query.to() : monthStart(now).atZone(ZoneOffset.UTC).plusMonths(1).toInstant();
        requireWholeHour(from, "from");
        requireWholeHour(to, "to");
        if (!to.isAfter(from)) {
            throw InvalidRequestException.parameter("to", "must be after from");
        }
        String owner = query.groupBy() == UsageGroup.USER && query.userId() == null ? null
                : query.userId() != null ? query.userId() : caller.userId();
        List<UsageRow> rows = engine.store().usage().usage(owner, from, to, query.groupBy());
        UsageTotals total = rows.stream().map(UsageRow::totals).reduce(UsageTotals.NONE, UsageTotals::plus);
        return new UsageReport(from, to, query.groupBy(), rows, total);
    }

    Optional<ModelPrice> price(String model) {
        return model == null ? Optional.empty() : Optional.ofNullable(engine.prices().get(model));
    }

    /**
     * Refuses a new run of a user whose month-to-date cost (UTC calendar month) reached their budget,
     * with {@code budget_exceeded} and the time to the month's end.
     */
    void requireBudget(String userId) {
        BigDecimal budget = budgets.apply(userId);
        if (budget == null) {
            return;
        }
        Instant now = engine.now();
        Instant start = monthStart(now);
        Instant end = now.truncatedTo(ChronoUnit.HOURS).plus(Duration.ofHours(1));
        BigDecimal spent = engine.store().usage().usage(userId, start, end, UsageGroup.USER).stream()
                .map(r -> r.totals().pricedCostUsd()).reduce(BigDecimal.ZERO, BigDecimal::add);
        if (spent.compareTo(budget) >= 0) {
            Instant next = start.atZone(ZoneOffset.UTC).plusMonths(1).toInstant();
            log.debug("user {} reached the monthly budget ({} of {} USD)", userId, spent, budget);
            throw new BudgetExceededException("The monthly budget of " + budget.stripTrailingZeros().toPlainString()
                    + " USD is used up; it renews at the start of next month (UTC)", Duration.between(now, next));
        }
    }

    static Instant monthStart(Instant now) {
        ZonedDateTime utc = now.atZone(ZoneOffset.UTC);
        return utc.toLocalDate().withDayOfMonth(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    private static void requireWholeHour(Instant at, String field) {
        if (!at.truncatedTo(ChronoUnit.HOURS).equals(at)) {
            throw InvalidRequestException.parameter(field, "must be a whole hour (UTC), such as 2026-12-01T00:00:00Z");
        }
    }
}
