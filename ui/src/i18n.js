// French first, English on a switch; the choice is kept in the browser.

const fr = {
  "app.title": "Recoupe",
  "nav.search": "Recherche",
  "nav.graph": "Graphe",
  "nav.map": "Carte",
  "nav.timeline": "Chronologie",
  "nav.investigations": "Enquêtes",
  "nav.ingest": "Ingestion",
  "nav.review": "Résolution",
  "nav.health": "Santé",
  "nav.audit": "Journal d'audit",
  "login.title": "Connexion",
  "login.login": "Identifiant",
  "login.password": "Mot de passe",
  "login.submit": "Se connecter",
  "login.failed": "Connexion refusée",
  "logout": "Se déconnecter",
  "lang.switch": "English",
  "banner.none": "Aucune donnée affichée",
  "search.placeholder": "Nom, téléphone, IBAN, e-mail, identifiant…",
  "search.submit": "Chercher",
  "search.results": "{n} résultats",
  "search.none": "Aucun résultat",
  "search.facets.schema": "Type",
  "search.facets.dataset": "Jeu de données",
  "search.facets.country": "Pays",
  "search.from": "Du",
  "search.to": "Au",
  "search.more": "Suite",
  "entity.properties": "Propriétés",
  "entity.value": "Valeur",
  "entity.source": "Source",
  "entity.date": "Date",
  "entity.marking": "Marquage",
  "entity.related": "Entités liées",
  "entity.timeline": "Chronologie",
  "entity.places": "Lieux",
  "entity.expand": "Ouvrir dans le graphe",
  "entity.add": "Ajouter à l'enquête",
  "entity.near": "Qui était à proximité",
  "entity.noplace": "Aucun lieu connu",
  "entity.places.count": "{n} lieux ; la page Carte montre les traces dans le temps et la recherche par cercle",
  "entity.places.some": "Les {n} premiers passages sur {total} ; la page Carte montre les traces dans le temps et la recherche par cercle",
  "graph.keys": "Graphe : flèches pour déplacer, + et - pour zoomer, 0 pour recentrer, Entrée ouvre l'entité choisie, Échap désélectionne",
  "graph.links": "{n} liens",
  "graph.expand": "Développer",
  "graph.path": "Chemin entre les deux sélectionnés",
  "graph.communities": "Couleur par communauté",
  "graph.centrality": "Taille par centralité",
  "graph.layout": "Disposition",
  "graph.layout.force": "Forces",
  "graph.layout.circle": "Cercle",
  "graph.layout.random": "Aléatoire",
  "graph.undo": "Annuler",
  "graph.png": "Exporter PNG",
  "graph.gexf": "Exporter GEXF",
  "graph.clear": "Vider",
  "graph.filter.schema": "Types affichés",
  "graph.empty": "Le graphe est vide : ouvrez une entité puis « Ouvrir dans le graphe ».",
  "graph.selected": "{n} sélectionné(s) ; Maj+clic pour en sélectionner deux",
  "graph.nopath": "Aucun chemin",
  "graph.withheld": "{n} entités de l'enquête vous sont masquées (habilitation)",
  "graph.nodes": "{n} nœuds, {e} liens",
  "map.circle": "Qui était là : tracer un cercle",
  "map.circle.help": "Cliquez le centre puis le bord du cercle",
  "map.found": "{n} entités dans le cercle",
  "map.time": "Période",
  "timeline.empty": "Aucun événement pour les entités affichées",
  "timeline.brush": "Glissez pour choisir une période ; elle filtre le graphe et la carte",
  "timeline.reset": "Toute la période",
  "inv.title": "Enquêtes",
  "inv.new": "Nouvelle enquête",
  "inv.save": "Enregistrer le graphe",
  "inv.name": "Titre",
  "inv.notes": "Notes",
  "inv.share": "Partager avec (identifiants ou groupes, séparés par des virgules)",
  "inv.open": "Ouvrir",
  "inv.saved": "Enquête enregistrée",
  "inv.none": "Aucune enquête",
  "ingest.title": "Ingérer un fichier",
  "review.title": "File de résolution",
  "review.same": "Même entité",
  "review.different": "Différentes",
  "review.unsure": "Incertain",
  "review.undo": "Annuler le dernier jugement",
  "review.empty": "La file est vide",
  "health.title": "Tableaux de bord sanitaires",
  "audit.title": "Journal d'audit",
  "error": "Erreur",
  "loading": "Chargement…",
  "why": "Motif de consultation (données cloisonnées)",
  "why.label": "Motif (consigné au journal d'audit)",
  "why.submit": "Consulter",
  "why.cancel": "Renoncer",
};

const en = {
  "nav.search": "Search",
  "nav.graph": "Graph",
  "nav.map": "Map",
  "nav.timeline": "Timeline",
  "nav.investigations": "Investigations",
  "nav.ingest": "Ingestion",
  "nav.review": "Resolution",
  "nav.health": "Health",
  "nav.audit": "Audit log",
  "login.title": "Log in",
  "login.login": "Login",
  "login.password": "Password",
  "login.submit": "Log in",
  "login.failed": "Login refused",
  "logout": "Log out",
  "lang.switch": "Français",
  "banner.none": "No data on screen",
  "search.placeholder": "Name, phone, IBAN, e-mail, identifier…",
  "search.submit": "Search",
  "search.results": "{n} results",
  "search.none": "No results",
  "search.facets.schema": "Type",
  "search.facets.dataset": "Dataset",
  "search.facets.country": "Country",
  "search.from": "From",
  "search.to": "To",
  "search.more": "More",
  "entity.properties": "Properties",
  "entity.value": "Value",
  "entity.source": "Source",
  "entity.date": "Date",
  "entity.marking": "Marking",
  "entity.related": "Related entities",
  "entity.timeline": "Timeline",
  "entity.places": "Places",
  "entity.expand": "Open in the graph",
  "entity.add": "Add to the investigation",
  "entity.near": "Who was nearby",
  "entity.noplace": "No known place",
  "entity.places.count": "{n} places; the map page has the tracks over time and the circle search",
  "entity.places.some": "The first {n} sightings of {total}; the map page has the tracks over time and the circle search",
  "graph.keys": "Graph: arrows to pan, + and - to zoom, 0 to reset, Enter opens the selected entity, Escape unselects",
  "graph.links": "{n} links",
  "graph.expand": "Expand",
  "graph.path": "Path between the two selected",
  "graph.communities": "Colour by community",
  "graph.centrality": "Size by centrality",
  "graph.layout": "Layout",
  "graph.layout.force": "Force",
  "graph.layout.circle": "Circle",
  "graph.layout.random": "Random",
  "graph.undo": "Undo",
  "graph.png": "Export PNG",
  "graph.gexf": "Export GEXF",
  "graph.clear": "Clear",
  "graph.filter.schema": "Types shown",
  "graph.empty": "The graph is empty: open an entity, then “Open in the graph”.",
  "graph.selected": "{n} selected; shift+click to select two",
  "graph.nopath": "No path",
  "graph.withheld": "{n} entities of the investigation are withheld from you (clearance)",
  "graph.nodes": "{n} nodes, {e} links",
  "map.circle": "Who was there: draw a circle",
  "map.circle.help": "Click the centre, then the edge of the circle",
  "map.found": "{n} entities in the circle",
  "map.time": "Period",
  "timeline.empty": "No events for the entities in view",
  "timeline.brush": "Drag to pick a period; it filters the graph and the map",
  "timeline.reset": "Whole period",
  "inv.title": "Investigations",
  "inv.new": "New investigation",
  "inv.save": "Save the graph",
  "inv.name": "Title",
  "inv.notes": "Notes",
  "inv.share": "Share with (logins or groups, comma-separated)",
  "inv.open": "Open",
  "inv.saved": "Investigation saved",
  "inv.none": "No investigations",
  "ingest.title": "Ingest a file",
  "review.title": "Resolution queue",
  "review.same": "Same entity",
  "review.different": "Different",
  "review.unsure": "Unsure",
  "review.undo": "Undo the last judgement",
  "review.empty": "The queue is empty",
  "health.title": "Health dashboards",
  "audit.title": "Audit log",
  "error": "Error",
  "loading": "Loading…",
  "why": "Reason for reading (compartmented data)",
  "why.label": "Reason (kept in the audit log)",
  "why.submit": "Read",
  "why.cancel": "Give up",
};

const dictionaries = { fr, en };
let lang = localStorage.getItem("recoupe.lang") === "en" ? "en" : "fr";

export function language() {
  return lang;
}

export function setLanguage(next) {
  lang = next === "en" ? "en" : "fr";
  localStorage.setItem("recoupe.lang", lang);
  document.documentElement.lang = lang;
}

/** The text of ``key`` in the current language, with ``{name}`` filled from ``vars``. */
export function t(key, vars = {}) {
  const text = dictionaries[lang][key] ?? fr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// The ontology's labels in the current language (GET /api/ontology/labels): FollowTheMoney's
// translations and Recoupe's own. Until they arrive, identifiers show as they are.
let vocabulary = null;

export function setVocabulary(labels) {
  vocabulary = labels && labels.lang === lang ? labels : null;
}

export function vocabularyLanguage() {
  return vocabulary ? vocabulary.lang : null;
}

/** The label of a schema ("Person" → "Personne"); ``plural`` for its plural. */
export function schemaLabel(schema, plural = false) {
  const entry = vocabulary && vocabulary.schemata[schema];
  if (!entry) return schema;
  return plural ? entry.plural || entry.label : entry.label;
}

/** The label of a property of a schema ("Person", "birthDate" → "Date de naissance"). */
export function propLabel(schema, prop) {
  if (!vocabulary || !prop) return prop;
  const odd = vocabulary.exceptions[schema];
  return (odd && odd[prop]) || vocabulary.properties[prop] || prop;
}

/** The label of a link: an edge schema's verb ("a appelé") or the property's label. */
export function linkLabel(kind, schema, prop) {
  if (kind === "edge") {
    const entry = vocabulary && vocabulary.schemata[schema];
    return (entry && (entry.edge || entry.label)) || schema;
  }
  return propLabel(schema, prop);
}

export function formatNumber(value) {
  return new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-GB").format(value);
}
