"""Mapping files that ingest the scenario, one per dataset folder.

They follow FollowTheMoney's mapping format (``ftm map`` runs the UTF-8 ones from their
folder). Two Recoupe additions: ``countries`` on a query (default country for phone
numbers) and a ``source`` block for reading options FtM lacks (cp1252, ';').
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

OWNER = "Recoupe : jeu de données synthétique (scénario d'enquête)"


def _col(column: str, **extra: Any) -> dict[str, Any]:
    return {"column": column, **extra}


def _address(street: str, postcode: str, city: str, **coordinates: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "full": {"template": f"{{{{{street}}}}}, {{{{{postcode}}}}} {{{{{city}}}}}"},
        "street": _col(street),
        "postalCode": _col(postcode),
        "city": _col(city),
        "country": {"literal": "fr"},
    }
    for prop, column in coordinates.items():
        properties[prop] = _col(column)
    return {
        "schema": "Address",
        "keys": [street, postcode, city],
        "key_literal": "address",
        "properties": properties,
    }


def civil_registry() -> dict[str, Any]:
    person = {
        "schema": "Person",
        "keys": ["person_id"],
        "key_literal": "civil-person",
        "properties": {
            "name": {"columns": ["first_name", "last_name"], "join": " ", "required": True},
            "firstName": _col("first_name"),
            "lastName": _col("last_name", required=True),
            "birthDate": _col("birth_date"),
            "birthPlace": _col("birth_place"),
            "nationality": _col("nationality"),
            "gender": _col("gender"),
            "phone": _col("phone", format="fr"),
            "email": _col("email"),
            "idNumber": _col("national_id"),
            "addressEntity": {"entity": "address"},
        },
    }
    address = _address("street", "postal_code", "city", latitude="latitude", longitude="longitude")
    return {
        "title": "État civil : registre de la population",
        "description": "Personnes résidentes : identité, adresse géolocalisée, téléphone, "
        "courriel et numéro de sécurité sociale.",
        "owner": OWNER,
        "queries": [
            {
                "csv_url": "population.csv",
                "countries": ["fr"],
                "entities": {"person": person, "address": address},
            }
        ],
    }


def _phone(column: str, **properties: Any) -> dict[str, Any]:
    return {
        "schema": "Phone",
        "keys": [column],
        "key_literal": "phone",
        "properties": {"number": _col(column, required=True, format="fr"), **properties},
    }


def _tower(column: str) -> dict[str, Any]:
    return {
        "schema": "CellTower",
        "keys": [column],
        "key_literal": "cell",
        "properties": {"cellId": _col(column, required=True)},
    }


def telecom() -> dict[str, Any]:
    subscribers = {
        "csv_url": "subscribers.csv",
        "countries": ["fr"],
        "entities": {
            "line": _phone(
                "msisdn",
                imei=_col("imei"),
                imsi=_col("imsi"),
                operator=_col("operator"),
                prepaid=_col("prepaid"),
                activatedAt=_col("activated"),
                owner={"entity": "holder"},
            ),
            "holder": {
                "schema": "Person",
                "keys": ["subscriber_id"],
                "key_literal": "telecom-subscriber",
                "properties": {
                    "name": _col("holder_name", required=True),
                    "birthDate": _col("holder_birth_date"),
                },
            },
        },
    }
    towers = {
        "csv_url": "cell_towers.csv",
        "entities": {
            "tower": {
                "schema": "CellTower",
                "keys": ["cell_id"],
                "key_literal": "cell",
                "properties": {
                    "cellId": _col("cell_id", required=True),
                    "operator": _col("operator"),
                    "latitude": _col("latitude"),
                    "longitude": _col("longitude"),
                    "azimuth": _col("azimuth"),
                    "address": _col("city"),
                    "country": {"literal": "fr"},
                },
            }
        },
    }
    calls = {
        "csv_url": "calls.csv",
        "countries": ["fr"],
        "entities": {
            "call": {
                "schema": "PhoneCall",
                "keys": ["call_id"],
                "key_literal": "call",
                "properties": {
                    "callerPhone": {"entity": "caller"},
                    "receiverPhone": {"entity": "callee"},
                    "callerCell": {"entity": "caller_cell"},
                    "receiverCell": {"entity": "callee_cell"},
                    "callerNumber": _col("caller_msisdn", format="fr"),
                    "receiverNumber": _col("callee_msisdn", format="fr"),
                    "date": _col("start_time"),
                    "duration": _col("duration_s"),
                    "recordId": _col("call_id"),
                },
            },
            "caller": _phone("caller_msisdn"),
            "callee": _phone("callee_msisdn"),
            "caller_cell": _tower("caller_cell_id"),
            "callee_cell": _tower("callee_cell_id"),
        },
    }
    return {
        "title": "Opérateur téléphonique : abonnés et fadettes",
        "description": "Lignes et abonnés, antennes relais, et détail des appels (émetteur, "
        "destinataire, date, durée, antennes).",
        "owner": OWNER,
        "queries": [subscribers, towers, calls],
    }


def _customer(column: str, **properties: Any) -> dict[str, Any]:
    return {
        "schema": "Person",
        "keys": [column],
        "key_literal": "bank-customer",
        "properties": properties,
    }


def _account(column: str, **properties: Any) -> dict[str, Any]:
    return {
        "schema": "BankAccount",
        "keys": [column],
        "key_literal": "iban",
        "properties": {"iban": _col(column, required=True), **properties},
    }


def bank() -> dict[str, Any]:
    accounts = {
        "csv_url": "accounts.csv",
        "entities": {
            "account": _account(
                "iban",
                bankName=_col("bank_name"),
                bic=_col("bic"),
                openingDate=_col("opened"),
            ),
            "holder": _customer(
                "customer_id",
                name=_col("holder_name", required=True),
                birthDate=_col("holder_birth_date"),
            ),
            "holding": {
                "schema": "Ownership",
                "keys": ["customer_id", "iban"],
                "key_literal": "account-holder",
                "properties": {
                    "owner": {"entity": "holder"},
                    "asset": {"entity": "account"},
                    "role": {"literal": "Titulaire"},
                    "startDate": _col("opened"),
                },
            },
        },
    }
    transfers = {
        "csv_url": "transfers.csv",
        "entities": {
            "payment": {
                "schema": "Payment",
                "keys": ["transfer_id"],
                "key_literal": "transfer",
                "properties": {
                    "payer": {"entity": "payer"},
                    "beneficiary": {"entity": "beneficiary"},
                    "payerAccount": {"entity": "payer_account"},
                    "beneficiaryAccount": {"entity": "beneficiary_account"},
                    "amount": _col("amount"),
                    "currency": _col("currency"),
                    "date": _col("date"),
                    "purpose": _col("purpose"),
                    "transactionNumber": _col("transfer_id"),
                },
            },
            "payer_account": _account("from_iban"),
            "beneficiary_account": _account("to_iban"),
            "payer": _customer("from_customer_id"),
            "beneficiary": _customer("to_customer_id"),
        },
    }
    return {
        "title": "Banque : comptes et virements",
        "description": "Comptes (IBAN) et leurs titulaires, virements entre comptes.",
        "owner": OWNER,
        "queries": [accounts, transfers],
    }


def companies() -> dict[str, Any]:
    source = {"encoding": "cp1252", "delimiter": ";"}
    company = {
        "schema": "Company",
        "keys": ["siren"],
        "key_literal": "siren",
        "properties": {
            "name": _col("name", required=True),
            "registrationNumber": _col("siren"),
            "legalForm": _col("legal_form"),
            "incorporationDate": _col("incorporation_date"),
            "jurisdiction": {"literal": "fr"},
            "addressEntity": {"entity": "address"},
        },
    }
    directors = {
        "source": {"path": "directors.csv", **source},
        "entities": {
            "director": {
                "schema": "Person",
                "keys": ["director_id"],
                "key_literal": "company-director",
                "properties": {
                    "name": _col("director_name", required=True),
                    "birthDate": _col("director_birth_date"),
                },
            },
            "company": {
                "schema": "Company",
                "keys": ["siren"],
                "key_literal": "siren",
                "properties": {"registrationNumber": _col("siren", required=True)},
            },
            "directorship": {
                "schema": "Directorship",
                "keys": ["siren", "director_id"],
                "key_literal": "directorship",
                "properties": {
                    "director": {"entity": "director"},
                    "organization": {"entity": "company"},
                    "role": _col("role"),
                    "startDate": _col("start_date"),
                },
            },
        },
    }
    return {
        "title": "Registre du commerce : sociétés et dirigeants",
        "description": "Extraction du registre (cp1252, séparateur point-virgule) : sociétés, "
        "siège social, dirigeants et fonctions.",
        "owner": OWNER,
        "queries": [
            {
                "source": {"path": "companies.csv", **source},
                "entities": {
                    "company": company,
                    "address": _address("street", "postal_code", "city"),
                },
            },
            directors,
        ],
    }


def _place(prefix: str) -> dict[str, Any]:
    return {
        "schema": "Address",
        "keys": [f"{prefix}_city"],
        "key_literal": "place",
        "properties": {
            "full": _col(f"{prefix}_city"),
            "city": _col(f"{prefix}_city"),
            "latitude": _col(f"{prefix}_lat"),
            "longitude": _col(f"{prefix}_lon"),
        },
    }


def travel() -> dict[str, Any]:
    query = {
        "csv_url": "travels.csv",
        "entities": {
            "journey": {
                "schema": "Travel",
                "keys": ["booking_ref"],
                "key_literal": "booking",
                "properties": {
                    "name": {"template": "{{departure_city}} - {{arrival_city}}"},
                    "bookingReference": _col("booking_ref"),
                    "carrier": _col("carrier"),
                    "transportNumber": _col("transport_number"),
                    "startDate": _col("departure_time"),
                    "traveller": {"entity": "passenger"},
                    "travelDocument": {"entity": "passport"},
                    "departurePlace": {"entity": "departure"},
                    "arrivalPlace": {"entity": "arrival"},
                },
            },
            "passenger": {
                "schema": "Person",
                "keys": ["passenger_id"],
                "key_literal": "travel-passenger",
                "properties": {
                    "name": _col("passenger_name", required=True),
                    "birthDate": _col("birth_date"),
                    "passportNumber": _col("passport_number"),
                },
            },
            "passport": {
                "schema": "Passport",
                "keys": ["passport_number"],
                "key_literal": "passport",
                "properties": {
                    "number": _col("passport_number", required=True),
                    "country": _col("passport_country"),
                    "holder": {"entity": "passenger"},
                },
            },
            "departure": _place("departure"),
            "arrival": _place("arrival"),
        },
    }
    return {
        "title": "Voyages : réservations de passagers",
        "description": "Réservations aériennes et ferroviaires : passager, document de voyage, "
        "vol ou train, départ et arrivée.",
        "owner": OWNER,
        "queries": [query],
    }


#: dataset name -> mapping body; the folder of each dataset has the same name
MAPPINGS = {
    "civil_registry": civil_registry,
    "telecom": telecom,
    "bank": bank,
    "companies": companies,
    "travel": travel,
}

#: dataset name -> its marking: the operator's call records are Secret, the bank's are
#: Restricted to the financial-intelligence compartment
MARKINGS = {
    "civil_registry": "NP",
    "telecom": "S",
    "bank": "DR//FININT",
    "companies": "NP",
    "travel": "DR",
}


def write_all(root: Path) -> list[Path]:
    """Write ``<dataset>/mapping.yml`` for every dataset; returns their paths."""
    paths = []
    for name, build in MAPPINGS.items():
        path = root / name / "mapping.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = yaml.safe_dump(
            {name: {**build(), "marking": MARKINGS[name]}},
            allow_unicode=True,
            sort_keys=False,
            width=100,
            default_flow_style=None,
        )
        path.write_text(
            f"# Mapping of the {name} dataset (FollowTheMoney mapping format).\n{body}",
            encoding="utf-8",
        )
        paths.append(path)
    return paths
