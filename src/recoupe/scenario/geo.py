"""Places of the scenario: French cities, foreign destinations, street names.

Coordinates are those of the town centres (WGS 84, rounded); populations are orders of
magnitude used as weights, not census figures. Corsica is left out so that every
department code is numeric (the check key of a social security number needs it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class City:
    """A French town: name, main postcode, INSEE code, centre and population weight."""

    name: str
    postcode: str
    insee: str
    lat: float
    lon: float
    population: int
    #: further postcodes of the town (arrondissements), the main one included
    postcodes: tuple[str, ...] = ()


def _arrondissements(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{n:03d}" for n in range(1, count + 1))


CITIES: tuple[City, ...] = (
    City("Paris", "75001", "75056", 48.8566, 2.3522, 2_100_000, _arrondissements("75", 20)),
    City("Marseille", "13001", "13055", 43.2965, 5.3698, 870_000, _arrondissements("13", 16)),
    City("Lyon", "69001", "69123", 45.7640, 4.8357, 520_000, _arrondissements("69", 9)),
    City("Toulouse", "31000", "31555", 43.6047, 1.4442, 500_000),
    City("Nice", "06000", "06088", 43.7102, 7.2620, 340_000),
    City("Nantes", "44000", "44109", 47.2184, -1.5536, 320_000),
    City("Montpellier", "34000", "34172", 43.6108, 3.8767, 300_000),
    City("Strasbourg", "67000", "67482", 48.5734, 7.7521, 290_000),
    City("Bordeaux", "33000", "33063", 44.8378, -0.5792, 260_000),
    City("Lille", "59000", "59350", 50.6292, 3.0573, 235_000),
    City("Rennes", "35000", "35238", 48.1173, -1.6778, 220_000),
    City("Reims", "51100", "51454", 49.2583, 4.0317, 180_000),
    City("Toulon", "83000", "83137", 43.1242, 5.9280, 180_000),
    City("Saint-Étienne", "42000", "42218", 45.4397, 4.3872, 173_000),
    City("Le Havre", "76600", "76351", 49.4944, 0.1079, 170_000),
    City("Grenoble", "38000", "38185", 45.1885, 5.7245, 158_000),
    City("Dijon", "21000", "21231", 47.3220, 5.0415, 158_000),
    City("Angers", "49000", "49007", 47.4784, -0.5632, 155_000),
    City("Villeurbanne", "69100", "69266", 45.7719, 4.8902, 150_000),
    City("Nîmes", "30000", "30189", 43.8367, 4.3601, 148_000),
    City("Clermont-Ferrand", "63000", "63113", 45.7772, 3.0870, 147_000),
    City("Le Mans", "72000", "72181", 48.0061, 0.1996, 145_000),
    City("Aix-en-Provence", "13090", "13001", 43.5297, 5.4474, 145_000),
    City("Brest", "29200", "29019", 48.3904, -4.4861, 140_000),
    City("Tours", "37000", "37261", 47.3941, 0.6848, 136_000),
    City("Amiens", "80000", "80021", 49.8941, 2.2958, 134_000),
    City("Limoges", "87000", "87085", 45.8336, 1.2611, 131_000),
    City("Perpignan", "66000", "66136", 42.6887, 2.8948, 120_000),
    City("Metz", "57000", "57463", 49.1193, 6.1757, 120_000),
    City("Besançon", "25000", "25056", 47.2378, 6.0241, 117_000),
    City("Orléans", "45000", "45234", 47.9030, 1.9093, 116_000),
    City("Saint-Denis", "93200", "93066", 48.9362, 2.3574, 113_000),
    City("Argenteuil", "95100", "95018", 48.9472, 2.2467, 110_000),
    City("Montreuil", "93100", "93048", 48.8638, 2.4485, 110_000),
    City("Rouen", "76000", "76540", 49.4432, 1.0999, 110_000),
    City("Mulhouse", "68100", "68224", 47.7508, 7.3359, 108_000),
    City("Caen", "14000", "14118", 49.1829, -0.3707, 106_000),
    City("Nancy", "54000", "54395", 48.6921, 6.1844, 104_000),
    City("Roubaix", "59100", "59512", 50.6942, 3.1746, 98_000),
    City("Tourcoing", "59200", "59599", 50.7239, 3.1612, 98_000),
    City("Avignon", "84000", "84007", 43.9493, 4.8055, 91_000),
    City("Poitiers", "86000", "86194", 46.5802, 0.3404, 89_000),
    City("Pau", "64000", "64445", 43.2951, -0.3708, 77_000),
)

#: towns with an airport or a main station that trips start from, by index in CITIES
HUBS: tuple[str, ...] = (
    "Paris",
    "Marseille",
    "Lyon",
    "Toulouse",
    "Nice",
    "Nantes",
    "Bordeaux",
    "Lille",
    "Strasbourg",
    "Montpellier",
)


@dataclass(frozen=True, slots=True)
class Place:
    """A foreign town that trips go to, with its country (ISO 3166-1 alpha-2)."""

    name: str
    country: str
    lat: float
    lon: float


ABROAD: tuple[Place, ...] = (
    Place("Casablanca", "MA", 33.5731, -7.5898),
    Place("Marrakech", "MA", 31.6295, -7.9811),
    Place("Rabat", "MA", 34.0209, -6.8416),
    Place("Tanger", "MA", 35.7595, -5.8340),
    Place("Alger", "DZ", 36.7538, 3.0588),
    Place("Oran", "DZ", 35.6971, -0.6308),
    Place("Constantine", "DZ", 36.3650, 6.6147),
    Place("Tunis", "TN", 36.8065, 10.1815),
    Place("Istanbul", "TR", 41.0082, 28.9784),
    Place("Ankara", "TR", 39.9334, 32.8597),
    Place("Madrid", "ES", 40.4168, -3.7038),
    Place("Barcelone", "ES", 41.3874, 2.1686),
    Place("Lisbonne", "PT", 38.7223, -9.1393),
    Place("Porto", "PT", 41.1579, -8.6291),
    Place("Dakar", "SN", 14.7167, -17.4677),
    Place("Bamako", "ML", 12.6392, -8.0029),
    Place("Abidjan", "CI", 5.3600, -4.0083),
    Place("Conakry", "GN", 9.6412, -13.5784),
    Place("Lagos", "NG", 6.5244, 3.3792),
    Place("Accra", "GH", 5.6037, -0.1870),
    Place("Moscou", "RU", 55.7558, 37.6173),
    Place("Saint-Pétersbourg", "RU", 59.9311, 30.3609),
    Place("Bruxelles", "BE", 50.8503, 4.3517),
    Place("Genève", "CH", 46.2044, 6.1432),
    Place("Londres", "GB", 51.5072, -0.1276),
    Place("Francfort", "DE", 50.1109, 8.6821),
    Place("Amsterdam", "NL", 52.3676, 4.9041),
    Place("Rome", "IT", 41.9028, 12.4964),
    Place("Le Caire", "EG", 30.0444, 31.2357),
    Place("Dubaï", "AE", 25.2048, 55.2708),
    Place("Riyad", "SA", 24.7136, 46.6753),
    Place("Doha", "QA", 25.2854, 51.5310),
    Place("Beyrouth", "LB", 33.8938, 35.5018),
    Place("Amman", "JO", 31.9454, 35.9284),
)

STREET_TYPES: tuple[str, ...] = (
    "rue",
    "rue",
    "rue",
    "avenue",
    "boulevard",
    "place",
    "impasse",
    "allée",
    "chemin",
    "quai",
)

STREET_NAMES: tuple[str, ...] = (
    "Victor Hugo",
    "Jean Jaurès",
    "de la République",
    "Pasteur",
    "du Général de Gaulle",
    "Gambetta",
    "de la Gare",
    "des Écoles",
    "Jules Ferry",
    "de la Paix",
    "Voltaire",
    "Émile Zola",
    "de la Liberté",
    "Carnot",
    "des Lilas",
    "du Moulin",
    "de l'Église",
    "Jean Moulin",
    "Anatole France",
    "Paul Bert",
    "de Verdun",
    "Louis Pasteur",
    "des Tilleuls",
    "du Château",
    "Aristide Briand",
    "Marcel Pagnol",
    "Albert Camus",
    "des Acacias",
    "de la Fontaine",
    "Saint-Exupéry",
    "du 8 Mai 1945",
    "Henri Barbusse",
    "Léon Blum",
    "de Strasbourg",
    "des Peupliers",
    "Pierre Curie",
    "Lamartine",
    "Jean Macé",
    "de Lattre de Tassigny",
    "du Stade",
    "Georges Clemenceau",
    "Racine",
    "des Roses",
    "Molière",
    "de Provence",
    "Édouard Vaillant",
    "du Marché",
    "Danton",
)


def city_arrays() -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    """Latitudes, longitudes and normalised population weights of CITIES."""
    lat = np.array([c.lat for c in CITIES], dtype=np.float64)
    lon = np.array([c.lon for c in CITIES], dtype=np.float64)
    pop = np.array([c.population for c in CITIES], dtype=np.float64)
    return lat, lon, pop / pop.sum()


def city_spread(population: int) -> float:
    """Standard deviation in degrees of homes around a town centre of that size."""
    return 0.006 + 0.03 * float(np.sqrt(population / 2_100_000))


def department(city: City) -> str:
    """The department code (two digits) of a town, from its INSEE code."""
    return city.insee[:2]


@dataclass(frozen=True, slots=True)
class Country:
    """A country of birth or nationality: French name, INSEE code, towns of birth."""

    code: str
    name: str
    insee: str
    towns: tuple[str, ...]


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country("MA", "Maroc", "350", ("Casablanca", "Rabat", "Fès", "Marrakech", "Oujda")),
        Country("DZ", "Algérie", "352", ("Alger", "Oran", "Constantine", "Annaba", "Tlemcen")),
        Country("TN", "Tunisie", "351", ("Tunis", "Sfax", "Sousse", "Bizerte")),
        Country("SA", "Arabie saoudite", "201", ("Riyad", "Djeddah", "La Mecque")),
        Country("EG", "Égypte", "301", ("Le Caire", "Alexandrie", "Gizeh")),
        Country("SY", "Syrie", "206", ("Damas", "Alep", "Homs")),
        Country("LB", "Liban", "205", ("Beyrouth", "Tripoli", "Saïda")),
        Country("JO", "Jordanie", "222", ("Amman", "Zarqa", "Irbid")),
        Country("IQ", "Irak", "203", ("Bagdad", "Bassora", "Mossoul")),
        Country("RU", "Russie", "123", ("Moscou", "Saint-Pétersbourg", "Kazan", "Novossibirsk")),
        Country("UA", "Ukraine", "155", ("Kiev", "Kharkiv", "Odessa")),
        Country("TR", "Turquie", "208", ("Istanbul", "Ankara", "Izmir", "Konya")),
        Country("ES", "Espagne", "134", ("Madrid", "Barcelone", "Séville", "Valence")),
        Country("PT", "Portugal", "139", ("Lisbonne", "Porto", "Braga", "Coimbra")),
        Country("SN", "Sénégal", "341", ("Dakar", "Thiès", "Saint-Louis")),
        Country("ML", "Mali", "335", ("Bamako", "Kayes", "Ségou")),
        Country("CI", "Côte d'Ivoire", "326", ("Abidjan", "Bouaké", "Yamoussoukro")),
        Country("GN", "Guinée", "330", ("Conakry", "Kankan")),
        Country("NG", "Nigeria", "336", ("Lagos", "Ibadan", "Abuja")),
        Country("GH", "Ghana", "329", ("Accra", "Kumasi")),
    )
}
