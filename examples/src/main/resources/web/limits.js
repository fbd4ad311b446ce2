/*
 * Parley demo page: says plainly what a per-user limit means when the server refuses a send or a
 * stream with 429 (too many runs going at once, too many live answers open), and when to try again.
 * Uses what app.js exposes as window.Parley.
 */
(function () {
  'use strict';

  const P = window.Parley;

  function retryText(problem) {
    const seconds = Number(problem && problem.retry_after);
    if (!(seconds > 0)) return '';
    return seconds < 120 ? ' Try again in ' + seconds + ' s.' : ' Try again in ' + Math.ceil(seconds / 60) + ' min.';
  }

  function limitOf(problem, fallback) {
    return problem && Number(problem.limit) > 0 ? String(problem.limit) : fallback;
  }

  P.errorDescribers.push((err) => {
    if (!(err instanceof P.ApiError) || err.status !== 429) return null;
    const problem = err.problem || {};
    if (err.code === 'too_many_active_runs') {
      return 'Limit reached: at most ' + limitOf(problem, 'a few') + ' of your answers can be going at once (running, queued'
        + ' or waiting for your approval). Wait for one to finish, or stop one, then send again.' + retryText(problem);
    }
    if (err.code === 'too_many_streams') {
      return 'Limit reached: at most ' + limitOf(problem, 'a few') + ' live answers can be open at once for you (other tabs'
        + ' and windows count too). Close one, then try again.' + retryText(problem);
    }
    return null;
  });
})();
