/**
 * The meeting-hall board's own script (served as /board/assets/board.js, so
 * the page needs no inline script): it subscribes to `meetingBoard` over the
 * graphql-ws protocol at /graphql on the page's own origin (the `graphqlWs`
 * global of graphql-ws's browser build), renders each answer into the page
 * with textContent only (never HTML from the data), draws the sector chart
 * with the `echarts` global, and shows whether it is live or reconnecting.
 * Plain ES2020 for the browser: the product's TypeScript settings know no DOM,
 * so it is kept here as text rather than compiled.
 */
/**
 * What the board shows, as one subscription: the meeting's title and date, its
 * three batches province-wide with their sector split, and every venue (main
 * first) with its own three batches. Only fields of `schema/schema.graphql`'s
 * Meeting; amounts in 亿元 (the default unit).
 */
export const BOARD_SUBSCRIPTION = `subscription MeetingBoard($meetingId: ID!) {
  meetingBoard(meetingId: $meetingId) {
    id
    title
    heldOn
    hostRegion { code name }
    batches {
      stage
      stats { projectCount totalInvestment bySector { sector { code name } projectCount totalInvestment } }
    }
    venues {
      kind
      region { code name }
      batches { stage stats { projectCount totalInvestment } }
    }
  }
}`;

/** The stage colours of the page (its CSS uses the same) and of the chart's series. */
export const STAGE_COLOURS = { SIGNED: "#ffc53d", STARTED: "#36cfc9", IN_PRODUCTION: "#ff8a50" } as const;

/** The script's text for a board served under `boardPath`. Constants from the server are put in as JSON; nothing else is interpolated. */
export function boardScript(boardPath: string): string {
  return String.raw`(function () {
  "use strict";

  var QUERY = ${JSON.stringify(BOARD_SUBSCRIPTION)};
  var BOARD_PATH = ${JSON.stringify(boardPath)};
  var COLOURS = ${JSON.stringify(STAGE_COLOURS)};

  /** The three batches in stage order, with the words the product uses for them. */
  var STAGES = [
    { stage: "SIGNED", name: "签约" },
    { stage: "STARTED", name: "开工" },
    { stage: "IN_PRODUCTION", name: "投产" }
  ];
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif';
  /** 亿元 as the meeting reports print them: up to two decimals, no grouping (2860.5). */
  var amountFormat = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 2, useGrouping: false });
  var countFormat = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 0, useGrouping: false });

  var meetingId = meetingIdOfPath();
  var token = new URLSearchParams(location.search).get("token");
  var chart = null;
  /** The text last shown per figure, so that a figure that changed can flash. */
  var shown = Object.create(null);
  var rendered = false;
  var restarts = 0;
  var restartTimer = null;

  function byId(id) {
    return document.getElementById(id);
  }

  /** A new element with a class and text (textContent: data never becomes markup). */
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** The meeting id of /board/<id>. */
  function meetingIdOfPath() {
    var rest = location.pathname.slice(BOARD_PATH.length).replace(/^\/+/, "").split("/")[0] || "";
    try {
      return decodeURIComponent(rest);
    } catch (error) {
      return rest;
    }
  }

  /** 2021-07-10 as 2021年7月10日. */
  function formatDate(isoDate) {
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate || "");
    return match ? match[1] + "年" + Number(match[2]) + "月" + Number(match[3]) + "日" : String(isoDate || "");
  }

  function amount(stats) {
    return stats ? amountFormat.format(stats.totalInvestment) : "—";
  }

  function count(stats) {
    return stats ? countFormat.format(stats.projectCount) : "—";
  }

  function batchOf(batches, stage) {
    for (var i = 0; i < (batches || []).length; i++) if (batches[i].stage === stage) return batches[i];
    return null;
  }

  /** Sets a figure's text; once the board has been shown, a figure whose text changed flashes. */
  function put(node, key, text) {
    node.textContent = text;
    if (rendered && key in shown && shown[key] !== text) {
      node.classList.remove("changed");
      void node.offsetWidth; // restarts the animation
      node.classList.add("changed");
    }
    shown[key] = text;
  }

  // ---- connection state

  /** live, reconnecting or connecting: the small badge in the corner, and the figures dimmed while not live. */
  function setConnection(state) {
    var badge = byId("connection");
    badge.setAttribute("data-state", state);
    badge.textContent = state === "live" ? "实时 · live" : state === "reconnecting" ? "重新连接中 · reconnecting" : "连接中 · connecting";
    document.body.classList.toggle("stale", state !== "live");
  }

  function showProblem(title, message) {
    byId("notice-title").textContent = title;
    byId("notice-text").textContent = message;
    byId("notice").hidden = false;
  }

  function hideProblem() {
    byId("notice").hidden = true;
  }

  /** A readable message from what graphql-ws hands a sink's error: GraphQL errors, a close event, or an Error. */
  function messageOf(problem) {
    if (Array.isArray(problem)) return problem.map(messageOf).join("；");
    if (problem && typeof problem.code === "number" && "reason" in problem) {
      return "连接被关闭 (" + problem.code + (problem.reason ? " " + problem.reason : "") + ")";
    }
    if (problem && typeof problem.message === "string") return problem.message;
    if (problem && problem.type === "error") return "无法连接服务器";
    return String(problem);
  }

  /** What the board says for errors of the subscription: the server's own message, under a heading for not found. */
  function showErrors(errors) {
    var list = Array.isArray(errors) ? errors : [errors];
    var notFound = list.some(function (error) {
      return !!error && ((error.extensions && error.extensions.code === "NOT_FOUND") || /not found|no meeting|未找到|不存在/i.test(String(error.message)));
    });
    showProblem(notFound ? "未找到该会议" : "无法显示该会议", messageOf(list));
    if (!rendered) {
      byId("title").textContent = "会议 " + meetingId;
      document.title = "未找到会议 · 三个一批";
    }
  }

  // ---- rendering

  function render(meeting) {
    byId("title").textContent = meeting.title;
    byId("date").textContent = formatDate(meeting.heldOn) + (meeting.hostRegion ? " · " + meeting.hostRegion.name : "");
    document.title = meeting.title + " · 三个一批";
    STAGES.forEach(function (s) {
      var card = document.querySelector('.total[data-stage="' + s.stage + '"]');
      var batch = batchOf(meeting.batches, s.stage);
      put(card.querySelector(".amount"), "total." + s.stage + ".amount", amount(batch && batch.stats));
      put(card.querySelector(".count .number"), "total." + s.stage + ".count", count(batch && batch.stats));
    });
    renderVenues(meeting.venues || []);
    renderChart(meeting.batches || []);
    document.body.classList.remove("empty");
    var now = new Date();
    byId("updated").textContent = "更新于 " + [now.getHours(), now.getMinutes(), now.getSeconds()].map(function (n) { return (n < 10 ? "0" : "") + n; }).join(":");
    rendered = true;
  }

  /** One row per venue (the main venue first, as the API orders them): count and 亿元 of each batch. */
  function renderVenues(venues) {
    var table = byId("venues");
    var body = table.tBodies[0];
    while (body.firstChild) body.removeChild(body.firstChild);
    venues.forEach(function (venue) {
      var main = venue.kind === "MAIN";
      var row = element("tr", main ? "main" : "sub");
      row.setAttribute("data-region", venue.region.code);
      var name = element("th");
      name.scope = "row";
      name.appendChild(element("span", "kind", main ? "主会场" : "分会场"));
      name.appendChild(element("span", "region", venue.region.name));
      row.appendChild(name);
      STAGES.forEach(function (s) {
        var batch = batchOf(venue.batches, s.stage);
        var key = "venue." + venue.region.code + "." + s.stage;
        var countCell = element("td", "count " + s.stage);
        put(countCell, key + ".count", count(batch && batch.stats));
        var amountCell = element("td", "amount " + s.stage);
        put(amountCell, key + ".amount", amount(batch && batch.stats));
        row.appendChild(countCell);
        row.appendChild(amountCell);
      });
      body.appendChild(row);
    });
    fitVenues();
  }

  /** The venue table's text as large as lets every row fit its panel (1.3rem down to 0.6rem), for any number of venues. */
  function fitVenues() {
    var table = byId("venues");
    var room = table.parentNode.clientHeight;
    var size = 1.3;
    table.style.height = "";
    table.style.fontSize = size + "rem";
    while (table.offsetHeight > room && size > 0.6) {
      size -= 0.05;
      table.style.fontSize = size.toFixed(2) + "rem";
    }
    // Shrunk to fit: the rows share what is left of the panel, so its bottom is not left empty.
    if (size < 1.3) table.style.height = room + "px";
  }

  /** Investment by top-level sector, one stacked bar per sector (签约 / 开工 / 投产), the sum at its end. */
  function renderChart(batches) {
    if (!chart) return;
    var sectors = [];
    var index = Object.create(null);
    var values = {};
    STAGES.forEach(function (s) {
      values[s.stage] = Object.create(null);
      var batch = batchOf(batches, s.stage);
      (batch ? batch.stats.bySector : []).forEach(function (row) {
        if (!(row.sector.code in index)) {
          index[row.sector.code] = sectors.length;
          sectors.push(row.sector);
        }
        values[s.stage][row.sector.code] = row.totalInvestment;
      });
    });
    var sums = sectors.map(function (sector) {
      return STAGES.reduce(function (sum, s) { return sum + (values[s.stage][sector.code] || 0); }, 0);
    });
    // Sectors with projects, the largest sum first (at the top).
    var order = sectors.map(function (_, i) { return i; }).filter(function (i) { return sums[i] > 0; });
    order.sort(function (a, b) { return sums[b] - sums[a] || a - b; });
    var kept = order.map(function (i) { return sectors[i]; });
    var keptSums = order.map(function (i) { return sums[i]; });
    var largest = Math.max.apply(null, keptSums.concat([0]));
    var series = STAGES.map(function (s) {
      return {
        name: s.name,
        type: "bar",
        stack: "investment",
        barMaxWidth: 34,
        itemStyle: { color: COLOURS[s.stage] },
        label: {
          show: true,
          position: "inside",
          color: "#0a1630",
          fontFamily: FONT,
          fontSize: 15,
          fontWeight: "bold",
          formatter: function (p) { return p.value >= largest * 0.09 ? amountFormat.format(p.value) : ""; }
        },
        data: kept.map(function (sector) { return values[s.stage][sector.code] || 0; })
      };
    });
    // An empty bar on top of each stack that carries the sector's sum as its label.
    series.push({
      name: "合计",
      type: "bar",
      stack: "investment",
      silent: true,
      itemStyle: { color: "transparent" },
      label: {
        show: true,
        position: "right",
        color: "#f2f6ff",
        fontFamily: FONT,
        fontSize: 17,
        fontWeight: "bold",
        formatter: function (p) { return amountFormat.format(keptSums[p.dataIndex]); }
      },
      data: kept.map(function () { return 0; })
    });
    chart.setOption({
      textStyle: { fontFamily: FONT, color: "#dbe6ff" },
      legend: { data: STAGES.map(function (s) { return s.name; }), top: 0, right: 8, itemWidth: 22, itemHeight: 14, textStyle: { color: "#dbe6ff", fontSize: 18 } },
      grid: { left: 8, right: 76, top: 40, bottom: 4, containLabel: true },
      xAxis: { type: "value", axisLabel: { color: "#9fb3d9", fontSize: 14 }, splitLine: { lineStyle: { color: "rgba(160, 190, 255, 0.14)" } } },
      yAxis: { type: "category", inverse: true, data: kept.map(function (sector) { return sector.name; }), axisLabel: { color: "#f2f6ff", fontSize: 17 }, axisTick: { show: false }, axisLine: { lineStyle: { color: "rgba(160, 190, 255, 0.35)" } } },
      animationDurationUpdate: 500,
      series: series
    });
  }

  // ---- the subscription

  /** Exponential backoff with jitter: base 500 ms doubled per attempt up to cap, then a random half to whole of it. */
  function backoffMs(attempt, cap) {
    var base = Math.min(cap, 500 * Math.pow(2, attempt));
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  function start() {
    setConnection("connecting");
    if (typeof echarts !== "undefined") {
      chart = echarts.init(byId("chart"), null, { renderer: "canvas" });
      window.addEventListener("resize", function () { chart.resize(); });
    }
    window.addEventListener("resize", fitVenues);
    if (typeof graphqlWs === "undefined") {
      showProblem("无法连接", "graphql-ws did not load");
      return;
    }
    if (!meetingId) {
      showProblem("未指定会议", "Open " + BOARD_PATH + "/<meetingId>");
      return;
    }
    var socket = null;
    var pongTimer = null;
    var everConnected = false;
    /** Whether a subscription is held (between subscribing and its error or end). */
    var subscribed = false;
    var client = graphqlWs.createClient({
      url: (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql",
      connectionParams: token ? { authorization: "Bearer " + token } : undefined,
      // A hall screen never gives up: the server restarts, the network comes back.
      retryAttempts: Infinity,
      // A browser reports a refused connection as an error event before its close event; retry that too.
      shouldRetry: function () { return true; },
      retryWait: function (retries) {
        return new Promise(function (resolve) { setTimeout(resolve, backoffMs(retries, 10000)); });
      },
      // A ping every 10 s; no pong within 5 s closes the socket (4408), so a connection that died silently is retried.
      keepAlive: 10000,
      // The socket stays a while when a subscription ended, so that subscribing again reuses it.
      lazyCloseTimeout: 60000,
      on: {
        connecting: function (retrying) { setConnection(retrying || everConnected ? "reconnecting" : "connecting"); },
        connected: function (connectedSocket) {
          socket = connectedSocket;
          everConnected = true;
          setConnection("live");
        },
        closed: function (event) {
          socket = null;
          clearTimeout(pongTimer);
          // Refused (4403): a bad token, or none where the server needs one for reads. It is tried again all the same.
          if (event && event.code === 4403) showProblem("无权查看该会议", "服务器拒绝了连接 (4403 Forbidden)：需要有效的令牌 ?token=…");
          setConnection(!subscribed ? "connecting" : everConnected ? "reconnecting" : "connecting");
        },
        ping: function (received) {
          if (received) return;
          clearTimeout(pongTimer);
          pongTimer = setTimeout(function () {
            if (socket && socket.readyState === WebSocket.OPEN) socket.close(4408, "Request Timeout");
          }, 5000);
        },
        pong: function (received) {
          if (received) clearTimeout(pongTimer);
        }
      }
    });

    /** Subscribes; a subscription the server ended (an error, complete) is subscribed again after a backoff. */
    function subscribe() {
      subscribed = true;
      client.subscribe(
        { query: QUERY, variables: { meetingId: meetingId } },
        {
          next: function (result) {
            if (result.errors && result.errors.length) {
              showErrors(result.errors);
              return;
            }
            var meeting = result.data && result.data.meetingBoard;
            if (!meeting) return;
            restarts = 0;
            hideProblem();
            render(meeting);
          },
          error: function (error) {
            showErrors(error);
            again();
          },
          complete: again
        }
      );
    }

    function again() {
      subscribed = false;
      clearTimeout(restartTimer);
      restartTimer = setTimeout(subscribe, backoffMs(restarts++, 30000));
    }

    subscribe();
  }

  start();
})();
`;
}
