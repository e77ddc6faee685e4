"""The default conversation agent: no language model. Classify the intent, extract and validate the slots against
Odoo, ask when something is missing or ambiguous, and run the one governed tool the intent maps to.

- **Intents** (:mod:`copilot.agent.intents`): embeddings + n-grams over the masked message, fitted on
  ``prompts/router/intents.yaml``; a low-confidence or entity-only message gets a question, not a guess.
- **Slots** (:mod:`copilot.agent.slots`): sites, asset tags, products, suppliers, quantities, months, ticket ids,
  KPIs — checked against a catalog read from Odoo. A tag Odoo does not know, ``the campus`` (two of them), an
  order with no product: the router asks.
- **Writes** (``maintenance_request_create``, ``purchase_request_create``, ``maintenance_equipment_status_set``) run
  only when the user's own words in this turn ask for them, or when this turn answers the question the user's own
  write request raised in the same session. Quoted or pasted text (``the ticket says: "order 500 ..."``) is data:
  it never makes a write. Tool results are never read for instructions.
- **Every call** goes through ``executor.execute`` and becomes a :class:`Step`; results become :class:`Card` s; a
  pending approval says who must approve.
- **Memory** per user session (:mod:`copilot.agent.sessions`): the pending question and the slots so far.

Usage::

    router = Router(executor, IntentClassifier.load(embedder), CatalogSource(load), ConversationStore(engine))
    reply = router.respond(erin, "summarise Lakeside for March", session_id="s-1", request_id="r-1")
    reply.intent, reply.slots, reply.steps[0].tool      # 'dashboard_summary', {...}, 'dashboard_summary'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from copilot.agent import progress
from copilot.agent.base import Card, Clarify, Reply, Step
from copilot.agent.intents import CLARIFY, UNKNOWN, IntentClassifier, Prediction
from copilot.agent.sessions import Conversation, MemorySessionStore, SessionStore
from copilot.agent.slots import CatalogSource, Extraction, SlotExtractor, Vocabulary, stem
from copilot.errors import ValidationError

if TYPE_CHECKING:
    from copilot.governance.executor import ExecutionResult, GovernedExecutor
    from copilot.governance.principal import Principal

MAX_MESSAGE_CHARS = 8000

LABELS = {
    "knowledge_search": "a question about our SOPs, policies or contracts",
    "equipment_status": "the status of a piece of equipment",
    "lots_expiring": "stock lots that are about to expire",
    "stock_on_hand": "how much of a product is in stock",
    "purchase_orders_open": "open purchase orders and deliveries",
    "maintenance_request_create": "raising a maintenance request",
    "purchase_request_create": "raising a purchase request",
    "maintenance_equipment_status_set": "taking equipment out of or back into service",
    "ticket_triage": "triaging a helpdesk ticket",
    "kpi_query": "a KPI (stockouts, supplier on-time delivery, uptime, ...)",
    "dashboard_summary": "a monthly summary of a site or the network",
}
CARD_KIND = {
    "knowledge_search": "answer",
    "equipment_status": "equipment",
    "lots_expiring": "lots",
    "stock_on_hand": "stock",
    "purchase_orders_open": "purchase_orders",
    "maintenance_request_create": "maintenance_request",
    "purchase_request_create": "purchase_request",
    "maintenance_equipment_status_set": "equipment",
    "ticket_triage": "triage",
    "kpi_query": "kpi",
    "dashboard_summary": "summary",
}
PRIORITY = [(r"\b(urgent|asap|emergency|critical|immediately)\b", "3"), (r"\bhigh priority\b", "2"),
            (r"\blow priority\b", "0")]
ERROR_SLOT = {"supplier_required": "supplier", "unknown_site": "site", "unknown_product": "product",
              "unknown_equipment": "equipment", "unknown_supplier": "supplier"}
"""A tool's refusal that a person can fix by naming one thing: the router asks for it (nothing ran)."""
_YES_NO = re.compile(r"^(?:(?P<yes>y|yes|yep|yeah|ok|okay|sure|confirm(?:ed)?|go ahead|do it|please do)"
                     r"|(?P<no>n|no|nope|cancel|stop|don't|do not))\b")
_QUOTED = re.compile(r"\"[^\"]{3,}\"|“[^”]{3,}”|'[^']{12,}'")
_SAYS = re.compile(r"\b(says|said|reads|wrote|writes|states|contains)\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class RouterConfig:
    min_p: float = 0.40
    """Below this probability for the best intent the router asks which one was meant."""
    min_margin: float = 0.10
    """…or when the best two intents are this close."""
    min_p_write: float = 0.60
    """A write below this probability is not guessed: the router asks the user to confirm it first."""
    fallback_min_words: int = 3
    """An uncertain message with this many content words, with the documents among its two best intents, is
    answered from the documents (which abstain when they do not say) instead of asking."""
    paste_min_words: int = 4
    """``triage this: <text>``: at least this many words of ticket text, else the router asks which ticket."""


@dataclass
class _Plan:
    intent: str
    slots: dict[str, Any]
    args: dict[str, Any] | None = None
    clarify: Clarify | None = None
    note: str | None = None
    """A reply without a tool call (a cancelled confirmation)."""
    carry: dict[str, Any] | None = None
    """Slots kept for the next turn beside the reported ones (an entity named before the intent was clear)."""


def own_words(message: str) -> str:
    """The user's own words: the message without quoted text or what follows ``... says:`` (pasted data)."""
    m = _SAYS.search(message)
    head = message[: m.start()] if m else message
    return _QUOTED.sub(" ", head).strip()


class Router:
    """See the module docstring. ``today`` fixes relative dates (``last month``) — the demo network's day in evals."""

    name = "router"

    def __init__(
        self,
        executor: GovernedExecutor,
        classifier: IntentClassifier,
        catalog: CatalogSource,
        sessions: SessionStore | None = None,
        *,
        vocabulary: Vocabulary | None = None,
        today: Callable[[], date] | None = None,
        config: RouterConfig | None = None,
    ) -> None:
        self.executor = executor
        self.classifier = classifier
        self.catalog = catalog
        self.sessions: SessionStore = sessions or MemorySessionStore()
        self.vocab = vocabulary or Vocabulary.load()
        self.today = today or (lambda: datetime.now(UTC).date())
        self.config = config or RouterConfig()
        self._extractor: tuple[Any, date, SlotExtractor] | None = None
        self._common = {w for spec in classifier.intents.values() for ex in spec.examples
                        for w in re.findall(r"[a-z]+", ex.lower()) if not w.startswith("x")}
        classifier.use_mask(self.mask)  # trained on what it will see: messages masked by this extractor

    # -- parts ----------------------------------------------------------------------------------------------

    def extractor(self) -> SlotExtractor:
        catalog, today = self.catalog.get(), self.today()
        cached = self._extractor
        if cached is None or cached[0] is not catalog or cached[1] != today:
            cached = (catalog, today, SlotExtractor(catalog, self.vocab, today=today, common_words=self._common))
            self._extractor = cached
        return cached[2]

    def mask(self, text: str) -> str:
        return self.extractor().extract(text).masked

    def warm_up(self) -> None:
        self.extractor()
        self.classifier.warm_up()

    # -- one turn -------------------------------------------------------------------------------------------

    def respond(self, principal: Principal, message: str, *, session_id: str, request_id: str) -> Reply:
        text = (message or "").strip()
        if not text:
            raise ValidationError("message: empty", code="message_empty")
        if len(message) > MAX_MESSAGE_CHARS:
            raise ValidationError(f"message: longer than {MAX_MESSAGE_CHARS} characters", code="message_too_long")
        conv = self.sessions.open(session_id, principal.id, agent=self.name)
        ex = self.extractor().extract(text)
        plan = self._continue(conv, text, ex) or self._fresh(text, ex)
        reply = self._act(principal, plan, text, ex, request_id)
        pending = None
        if reply.clarify is not None:
            pending = {"intent": plan.intent, "slots": {**(plan.carry or {}), **plan.slots},
                       "args": plan.args if reply.clarify.missing == "confirm" else None,
                       "missing": reply.clarify.missing,
                       "options": reply.clarify.options, "write": self._is_write(plan.intent)}
        conv.state = {"pending": pending, "last_intent": reply.intent, "last_slots": reply.slots}
        redact = getattr(self.executor, "redact", None)
        self.sessions.save(
            conv,
            request_id=request_id,
            user_text=redact.text(text) if redact is not None else text,
            reply_text=reply.text,
            intent=reply.intent,
        )
        return reply

    # -- deciding -------------------------------------------------------------------------------------------

    def _is_write(self, intent: str | None) -> bool:
        spec = self.classifier.intents.get(intent or "")
        return bool(spec and spec.write)

    def _classify(self, ex: Extraction) -> Prediction:
        return self.classifier.predict(ex.masked)

    def _fresh(self, text: str, ex: Extraction) -> _Plan:
        pred = self._classify(ex)
        intent = pred.intent
        if self._is_write(intent):
            own = own_words(text)
            if own != text:  # quoted or pasted text must not be what asks for a write
                own_pred = self.classifier.predict(self.extractor().extract(own).masked) if own else None
                if own_pred is None or own_pred.intent != intent:
                    return _Plan(UNKNOWN, {}, clarify=Clarify(
                        "I read that as quoted text, and I don't act on instructions inside quoted text. "
                        "What would you like me to do?", "intent", []))
        if intent == CLARIFY:
            return self._ask_intent(pred, ex)
        if pred.p < self.config.min_p or pred.margin < self.config.min_margin:
            # an uncertain question of some length goes to the documents (they answer or abstain); a short or
            # entity-only message gets a question back
            top2 = [i for i, _ in pred.ranked[:2]]
            if ex.content_words >= self.config.fallback_min_words and "knowledge_search" in top2:
                return self._plan("knowledge_search", ex, text)
            return self._ask_intent(pred, ex)
        plan = self._plan(intent, ex, text)
        if self._is_write(intent) and pred.p < self.config.min_p_write and plan.args is not None:
            plan.clarify = Clarify(f"Just to check: do you want me to {confirm_phrase(intent, plan.slots)}? "
                                   "(yes / no)", "confirm", ["yes", "no"])
        return plan

    def _ask_intent(self, pred: Prediction, ex: Extraction) -> _Plan:
        options = [i for i, _ in pred.ranked if i in LABELS][:3]
        named = self._named(ex)
        about = f" about {named}" if named else ""
        question = f"What would you like to know or do{about}? For example: " + "; ".join(
            f"{n}. {LABELS[i]}" for n, i in enumerate(options, 1)
        )
        keep = {k: v for k, v in ex.slots.items() if k in ("site", "equipment", "product", "periods", "supplier")}
        return _Plan(UNKNOWN, {}, clarify=Clarify(question, "intent", options), carry=keep)

    @staticmethod
    def _named(ex: Extraction) -> str:
        s = ex.slots
        parts = [str(s[k]) for k in ("equipment", "product", "site", "supplier") if k in s]
        if "periods" in s:
            parts.append(", ".join(s["periods"]))
        return " / ".join(parts)

    def _continue(self, conv: Conversation, text: str, ex: Extraction) -> _Plan | None:
        """Resume the pending question when this turn answers it; None when it is a new request."""
        pending = (conv.state or {}).get("pending")
        if not pending:
            return None
        missing, options = pending.get("missing"), list(pending.get("options") or [])
        if missing == "confirm":
            yes_no = _YES_NO.match(text.strip().lower())
            if yes_no is None:
                return None
            confirmed = str(pending.get("intent"))
            if yes_no.group("yes"):
                return _Plan(confirmed, dict(pending.get("slots") or {}), args=dict(pending.get("args") or {}))
            return _Plan(confirmed, dict(pending.get("slots") or {}), note="OK, I have not done anything.")
        chosen = self._choose(text, options)
        if missing == "intent":
            intent = chosen
            if intent is None:
                pred = self._classify(ex)
                if pred.intent in LABELS and pred.p >= self.config.min_p:
                    intent = pred.intent
            if intent is None:
                return None
            merged = Extraction(slots={**pending.get("slots", {}), **ex.slots}, masked=ex.masked,
                                problems=ex.problems, content_words=ex.content_words,
                                product_phrase=ex.product_phrase, all_sites=ex.all_sites)
            return self._plan(intent, merged, text)
        intent = pending.get("intent")
        if intent not in LABELS:
            return None
        slots = dict(pending.get("slots") or {})
        answer = dict(ex.slots)
        if chosen is not None and missing:
            answer[missing] = chosen
        fills = missing in answer or (missing == "description" and ex.content_words >= 2)
        if not fills:
            return None
        problems = [p for p in ex.problems if p.slot == missing]
        merged = Extraction(slots={**slots, **{k: v for k, v in answer.items() if k not in slots or k == missing}},
                            masked=ex.masked, problems=problems, content_words=ex.content_words,
                            product_phrase=ex.product_phrase)
        if missing == "description":
            merged.slots["description"] = text
        return self._plan(intent, merged, pending.get("text") or text, resumed=True)

    @staticmethod
    def _choose(text: str, options: list[str]) -> str | None:
        """An answer that picks an offered option: its number, or its words."""
        if not options:
            return None
        t = text.strip().lower().rstrip(".!")
        ordinals = {"first": 1, "second": 2, "third": 3, "1st": 1, "2nd": 2, "3rd": 3}
        m = re.fullmatch(r"(?:the\s+)?(\d|first|second|third|1st|2nd|3rd)(?:\s+one)?", t)
        if m:
            k = int(m.group(1)) if m.group(1).isdigit() else ordinals[m.group(1)]
            return options[k - 1] if 1 <= k <= len(options) else None
        hits = [o for o in options if o.lower() in t or (t in o.lower() and len(t) >= 4)]
        return hits[0] if len(hits) == 1 else None

    # -- slots per intent -----------------------------------------------------------------------------------

    def _ask(self, intent: str, slots: dict[str, Any], missing: str, question: str,
             options: tuple[str, ...] | list[str] = ()) -> _Plan:
        return _Plan(intent, slots, clarify=Clarify(question, missing, list(options)))

    def _site_problem(self, intent: str, slots: dict[str, Any], ex: Extraction) -> _Plan | None:
        p = ex.problem("site")
        if p is not None and "site" not in slots:
            return self._ask(intent, slots, "site", f"Which site do you mean by '{p.value}'?", p.options)
        return None

    def _plan(self, intent: str, ex: Extraction, text: str, *, resumed: bool = False) -> _Plan:
        builder = getattr(self, f"_plan_{intent}", None)
        if builder is None:
            return _Plan(intent, {})
        plan: _Plan = builder(ex, text)
        return plan

    def _plan_unknown(self, ex: Extraction, text: str) -> _Plan:
        return _Plan(UNKNOWN, {})

    def _plan_knowledge_search(self, ex: Extraction, text: str) -> _Plan:
        return _Plan("knowledge_search", {}, args={"question": text[:2000]})

    def _plan_equipment_status(self, ex: Extraction, text: str) -> _Plan:
        s = ex.slots
        if "equipment" in s:
            return _Plan("equipment_status", {"equipment": s["equipment"]}, args={"equipment": s["equipment"]})
        slots = _pick(s, "site", "category")
        unknown = ex.problem("equipment")
        if unknown is not None:
            return self._ask("equipment_status", slots, "equipment",
                             f"Odoo has no equipment with asset tag {unknown.value}. Which asset tag do you mean?")
        site_q = self._site_problem("equipment_status", slots, ex)
        if site_q:
            return site_q
        if "site" not in slots and self._singular_device(text):
            return self._ask("equipment_status", slots, "equipment",
                             "Which one? Give me its asset tag (e.g. BME-INF-0007) or the site.")
        return _Plan("equipment_status", slots, args=dict(slots))

    def _singular_device(self, text: str) -> bool:
        nouns = self.extractor()._equipment_nouns
        return bool(re.search(r"\b(the|this|that|my|our)\s+(\w+)\b", text.lower())) and any(
            w == stem(w) and w in nouns
            for w in re.findall(r"\b(?:the|this|that|my|our)\s+(\w+)", text.lower())
        )

    def _plan_lots_expiring(self, ex: Extraction, text: str) -> _Plan:
        s = ex.slots
        slots: dict[str, Any] = _pick(s, "site", "product")
        slots["days"] = int(s.get("days") or 30)
        return self._site_problem("lots_expiring", slots, ex) or _Plan("lots_expiring", slots, args=dict(slots))

    def _plan_stock_on_hand(self, ex: Extraction, text: str) -> _Plan:
        s = ex.slots
        slots = _pick(s, "product", "site")
        q = self._site_problem("stock_on_hand", slots, ex)
        if q:
            return q
        if "product" not in slots:
            return self._product_question("stock_on_hand", slots, ex)
        return _Plan("stock_on_hand", slots, args=dict(slots))

    def _product_question(self, intent: str, slots: dict[str, Any], ex: Extraction) -> _Plan:
        p = ex.problem("product")
        if p is not None:
            names = self.catalog.get().products
            return self._ask(intent, slots, "product", f"Which product do you mean by '{p.value}'?",
                             [f"{c} {names.get(c, '')}".strip() for c in p.options])
        if ex.product_phrase:
            return self._ask(intent, slots, "product",
                             f"I can't find '{ex.product_phrase}' among the products in Odoo. Which product "
                             "(name or internal reference)?")
        return self._ask(intent, slots, "product", "Which product?")

    def _plan_purchase_orders_open(self, ex: Extraction, text: str) -> _Plan:
        s = ex.slots
        slots = _pick(s, "site", "supplier", "product")
        return self._site_problem("purchase_orders_open", slots, ex) or _Plan(
            "purchase_orders_open", slots, args=dict(slots))

    def _plan_maintenance_request_create(self, ex: Extraction, text: str) -> _Plan:
        s = ex.slots
        slots = _pick(s, "equipment", "kind")
        intent = "maintenance_request_create"
        unknown = ex.problem("equipment")
        if "equipment" not in slots:
            q = (f"Odoo has no equipment with asset tag {unknown.value}. Which asset tag?" if unknown
                 else "Which piece of equipment? Give me its asset tag (e.g. BME-INF-0007).")
            return self._ask(intent, slots, "equipment", q)
        if "kind" not in slots:
            return self._ask(intent, slots, "kind", "Is this a repair (corrective) or planned (preventive) "
                             "maintenance?", ["corrective", "preventive"])
        args: dict[str, Any] = {"equipment": slots["equipment"], "kind": slots["kind"],
                                "description": str(s.get("description") or text)[:4000]}
        for rx, prio in PRIORITY:
            if re.search(rx, text.lower()):
                args["priority"] = prio
                break
        return _Plan(intent, slots, args=args)

    def _plan_purchase_request_create(self, ex: Extraction, text: str) -> _Plan:
        s = ex.slots
        intent = "purchase_request_create"
        slots = _pick(s, "site", "product", "quantity", "supplier")
        q = self._site_problem(intent, slots, ex)
        if q:
            return q
        if "product" not in slots:
            return self._product_question(intent, slots, ex)
        if "quantity" not in slots:
            return self._ask(intent, slots, "quantity", f"How many of {slots['product']}?")
        if "site" not in slots:
            return self._ask(intent, slots, "site", "For which site?", self.catalog.get().sites)
        args: dict[str, Any] = {"site": slots["site"],
                                "lines": [{"product": slots["product"], "quantity": slots["quantity"]}]}
        if "supplier" in slots:
            args["supplier"] = slots["supplier"]
        if "amount" in s:
            args["note"] = f"Requester's estimate: {s['amount']:.2f}"
        return _Plan(intent, slots, args=args)

    def _plan_maintenance_equipment_status_set(self, ex: Extraction, text: str) -> _Plan:
        s = ex.slots
        intent = "maintenance_equipment_status_set"
        slots = _pick(s, "equipment", "status")
        unknown = ex.problem("equipment")
        if "equipment" not in slots:
            q = (f"Odoo has no equipment with asset tag {unknown.value}. Which asset tag?" if unknown
                 else "Which piece of equipment? Give me its asset tag.")
            return self._ask(intent, slots, "equipment", q)
        if "status" not in slots:
            return self._ask(intent, slots, "status", f"Should {slots['equipment']} be in service or out of "
                             "service?", ["in_service", "out_of_service"])
        return _Plan(intent, slots, args={**slots, "reason": str(s.get("description") or text)[:2000]})

    def _plan_ticket_triage(self, ex: Extraction, text: str) -> _Plan:
        s = ex.slots
        if s.get("ticket_ids"):
            ids = list(s["ticket_ids"])[:100]
            return _Plan("ticket_triage", {"ticket_ids": ids}, args={"ticket_ids": ids})
        body = text.split(":", 1)[1].strip() if ":" in text else text
        if ex.content_words >= self.config.paste_min_words:
            return _Plan("ticket_triage", {}, args={"subject": body[:120], "body": body})
        return self._ask("ticket_triage", {}, "ticket_ids", "Which ticket? Give me its number, or paste its text.")

    def _plan_kpi_query(self, ex: Extraction, text: str) -> _Plan:
        s = ex.slots
        slots = _pick(s, "kpi", "site", "periods")
        q = self._site_problem("kpi_query", slots, ex)
        if q:
            return q
        if "kpi" not in slots:
            kpis = self.catalog.get().kpis
            return self._ask("kpi_query", slots, "kpi", "Which KPI?", [f"{k}" for k in kpis])
        return _Plan("kpi_query", slots, args=dict(slots))

    def _plan_dashboard_summary(self, ex: Extraction, text: str) -> _Plan:
        s = ex.slots
        today = self.today()
        prev = f"{today.year - (today.month == 1):04d}-{(today.month - 2) % 12 + 1:02d}"
        slots: dict[str, Any] = {"period": (s.get("periods") or [prev])[-1]}
        if "site" in s and not ex.all_sites:
            slots["site"] = s["site"]
        q = self._site_problem("dashboard_summary", slots, ex)
        return q or _Plan("dashboard_summary", slots, args=dict(slots))

    # -- acting ---------------------------------------------------------------------------------------------

    def _act(self, principal: Principal, plan: _Plan, text: str, ex: Extraction, rid: str) -> Reply:
        intent = plan.intent
        if plan.clarify is not None:
            return Reply(plan.clarify.question, self.name, intent=None if intent == UNKNOWN else intent,
                         slots=plan.slots, clarify=plan.clarify,
                         cards=[Card("clarify", {"question": plan.clarify.question,
                                                 "options": plan.clarify.options})])
        if plan.note is not None:
            return Reply(plan.note, self.name, intent=intent, slots=plan.slots)
        if intent == UNKNOWN or plan.args is None:
            return Reply("That is outside what I can help with. I can answer questions from our SOPs, policies and "
                         "contracts, look up equipment, stock, expiring lots and purchase orders in Odoo, raise "
                         "maintenance and purchase requests, triage helpdesk tickets and summarise KPIs.",
                         self.name, intent=UNKNOWN)
        spec = self.classifier.intents[intent]
        tool = spec.tool or intent
        if tool not in self.executor.registry:
            return Reply(f"I can't do that here yet: {LABELS.get(intent, intent)} is not available on this server "
                         f"(the {tool} tool is not installed).", self.name, intent=intent, slots=plan.slots)
        progress.started(tool)
        res = self.executor.execute(principal, tool, plan.args, request_id=rid)
        step = Step(tool, dict(plan.args), res.status, rid, res.approval_id, res.error_code,
                    summary=_step_summary(res))
        progress.finished(step)
        reply = Reply("", self.name, intent=intent, slots=plan.slots, steps=[step])
        if res.status == "ok":
            result = res.result if isinstance(res.result, dict) else {"result": res.result}
            reply.cards.append(Card(CARD_KIND.get(intent, intent), result))
            reply.text = describe(intent, result)
            if intent == "knowledge_search":
                reply.citations = list(result.get("citations") or [])
        elif res.status == "pending_approval":
            roles = self._approvers(res.approval_id)
            reply.pending_approval = res.approval_id
            reply.cards.append(Card("approval", {"approval_id": res.approval_id, "tool": tool,
                                                 "approving_roles": roles, "rule_id": res.rule_id}))
            who = " or ".join(r.replace("_", " ") for r in roles) or "an approver"
            reply.text = (f"Your request is waiting for approval by {who} (approval {res.approval_id}); "
                          "nothing has been changed in Odoo yet.")
        elif res.status == "denied":
            reply.text = f"I can't do that for you: {res.error or 'not allowed'}."
        elif res.error_code in ERROR_SLOT:
            slot = ERROR_SLOT[res.error_code]
            catalog = self.catalog.get()
            options = {"supplier": catalog.suppliers, "site": catalog.sites}.get(slot, ())
            reply.clarify = Clarify(f"{res.error} Which {slot}?", slot, list(options))
            reply.text = reply.clarify.question
            reply.cards.append(Card("clarify", {"question": reply.clarify.question, "options": list(options)}))
        else:
            reply.text = f"That didn't work: {res.error or res.error_code or 'the tool failed'}."
        return reply

    def _approvers(self, approval_id: str | None) -> list[str]:
        if not approval_id:
            return []
        try:
            return list(self.executor.approvals.get(approval_id).approving_roles)
        except Exception:  # the approval is recorded; naming its approvers is a courtesy
            return []


def confirm_phrase(intent: str, slots: dict[str, Any]) -> str:
    """What a write will do, in words, for a confirmation question."""
    if intent == "purchase_request_create":
        return (f"raise a purchase request for {slots.get('quantity')} x {slots.get('product')} for "
                f"{slots.get('site')}")
    if intent == "maintenance_request_create":
        return f"open a {slots.get('kind')} maintenance request for {slots.get('equipment')}"
    if intent == "maintenance_equipment_status_set":
        return f"set {slots.get('equipment')} {str(slots.get('status', '')).replace('_', ' ')}"
    return LABELS.get(intent, intent)


def _pick(slots: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: slots[k] for k in keys if k in slots}


def _step_summary(res: ExecutionResult) -> str:
    if res.status == "ok":
        return "done"
    if res.status == "pending_approval":
        return "waiting for approval"
    return res.error_code or res.status


def _count(result: dict[str, Any], key: str) -> int:
    value = result.get(key)
    return len(value) if isinstance(value, list) else int(result.get("count") or 0)


def describe(intent: str, r: dict[str, Any]) -> str:
    """One or two sentences for a tool's result (the card carries the detail). Result text is data: it is
    shown, never interpreted."""
    if intent == "knowledge_search":
        return str(r.get("answer") or "The documents don't say.")
    if intent == "equipment_status":
        eq = [e for e in r.get("equipment") or [] if isinstance(e, dict)]
        if len(eq) == 1:
            e = eq[0]
            state = "out of service" if e.get("status") == "out_of_service" else "in service"
            opened = len(e.get("open_requests") or [])
            return (f"{e.get('asset_tag') or e.get('name')} ({e.get('category') or 'equipment'}, "
                    f"{e.get('site') or 'site unknown'}) is {state}; {opened} open maintenance request(s).")
        down = sum(1 for e in eq if e.get("status") == "out_of_service")
        return f"{len(eq)} matching piece(s) of equipment, {down} out of service."
    if intent == "lots_expiring":
        return (f"{_count(r, 'lots')} lot(s) expire by {r.get('horizon', '?')}"
                + (f", worth {r['total_value']:.2f}" if isinstance(r.get("total_value"), int | float) else "") + ".")
    if intent == "stock_on_hand":
        if r.get("status") == "ambiguous":
            return str(r.get("message") or "Several products match; which one?")
        product = r.get("product") or {}
        name = product.get("name") if isinstance(product, dict) else product
        return f"{name}: {r.get('total', 0):g} on hand across {len(r.get('sites') or [])} site(s)."
    if intent == "purchase_orders_open":
        return f"{_count(r, 'orders')} open purchase order(s)."
    if intent == "ticket_triage":
        parts = []
        for s in r.get("suggestions") or []:
            labels = {k: v.get("label") if isinstance(v, dict) else v for k, v in (s.get("labels") or {}).items()}
            tid = s.get("ticket_id")
            head = f"Ticket {tid}" if tid is not None else "This ticket"
            parts.append(f"{head}: " + (", ".join(f"{k} {v}" for k, v in labels.items()) or s.get("reason", "no "
                                                                                                  "suggestion")))
        return "; ".join(parts) or "No suggestion."
    if intent == "kpi_query":
        return f"{r.get('name') or r.get('kpi') or 'KPI'}: {len(r.get('values') or [])} value(s)."
    if intent == "dashboard_summary":
        return str(r.get("text") or "Summary ready.")
    if intent == "maintenance_request_create":
        return f"Maintenance request created in Odoo: {r.get('name') or r.get('request') or 'done'}."
    if intent == "purchase_request_create":
        return f"Draft purchase order created in Odoo: {r.get('name') or r.get('order') or 'done'}."
    if intent == "maintenance_equipment_status_set":
        return f"Status set to {str(r.get('status', '')).replace('_', ' ')}."
    return "Done."
